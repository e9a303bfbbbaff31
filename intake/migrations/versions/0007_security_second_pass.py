"""Security, second pass: the audit head is signed on every append; budget rows keep no hour;
login attempts are counted per keyed username hash (known or not) and the password is checked by
unlocking the officer's key alone (one Argon2 call), so the separate password hash goes.

Revision ID: 0007
Revises: 0006

The signature of an existing head is written by `intake migrate` once the schema is up to
date (it needs the instance's signing key, which the database never holds).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))
    # Budget rows are counters of the current hour or day: starting them afresh loses nothing.
    op.drop_table("budget")
    _budget_table(sa.Column("day", sa.Date(), nullable=False))
    op.create_index("ix_budget_day", "budget", ["day"])
    with op.batch_alter_table("officer") as batch:
        batch.drop_column("password_hash")
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forget_after", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_login_attempts_forget_after", "login_attempts", ["forget_after"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_forget_after", table_name="login_attempts")
    op.drop_table("login_attempts")
    with op.batch_alter_table("officer") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("signature")
    op.drop_index("ix_budget_day", table_name="budget")
    op.drop_table("budget")
    _budget_table(sa.Column("window_start", sa.DateTime(timezone=True), nullable=False))


def _budget_table(when: sa.Column) -> None:
    op.create_table(
        "budget",
        sa.Column("key", sa.String(length=80), nullable=False),
        when,
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
