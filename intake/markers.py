"""Marking messages for translation where they are written (see policies/text.py)."""

from policies.text import N_, Text

__all__ = ["N_", "Text"]
