"""The organization's rules as data (policy.toml) and the code that applies them.

Nothing here knows about the web or the database: the service layer asks which
questions to put to a reporter, whether their answers are valid, and which offices a
report goes to.
"""

from .model import Choice, MisconductKind, Office, Policy, PolicyError, load_policy
from .form import MAX_MESSAGE_CHARS, InvalidReport, ReportInput, clean_text, validate_report
from .routing import route

__all__ = ["MAX_MESSAGE_CHARS", "Choice", "InvalidReport", "MisconductKind", "Office", "Policy", "PolicyError", "ReportInput", "clean_text", "load_policy", "route", "validate_report"]
