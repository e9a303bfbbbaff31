"""Security, second pass: the audit head is signed on every append; budget rows keep no hour.

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


def downgrade() -> None:
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
