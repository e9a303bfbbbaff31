"""Abuse budgets: fixed-window counters shared by every app process.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("budget",
                    sa.Column("key", sa.String(length=80), nullable=False),
                    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("used", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("key"))


def downgrade() -> None:
    op.drop_table("budget")
