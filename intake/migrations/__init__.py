"""Alembic migrations of the intake database (`intake migrate`, and `intake init` on a new one)."""
