"""Content-free notifications: officers' sealed addresses and the events their digests count.

Revision ID: 0014
Revises: 0013_disclosure
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013_disclosure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("notification_address",
                    sa.Column("officer_id", sa.String(length=40), nullable=False),
                    sa.Column("sealed", sa.LargeBinary(), nullable=False),
                    sa.Column("language", sa.String(length=8), nullable=False),
                    sa.Column("seen_event", sa.Integer(), nullable=False),
                    sa.Column("next_digest_at", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("attempts", sa.Integer(), nullable=False),
                    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
                    sa.Column("last_failure", sa.String(length=12), nullable=True),
                    sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
                    sa.PrimaryKeyConstraint("officer_id"))
    op.create_table("notification_event",
                    sa.Column("number", sa.Integer(), nullable=False),
                    sa.Column("office", sa.String(length=8), nullable=False),
                    sa.Column("case_id", sa.String(length=40), nullable=False),
                    sa.Column("kind", sa.String(length=10), nullable=False),
                    sa.PrimaryKeyConstraint("number"))
    op.create_index("ix_notification_event_office", "notification_event", ["office"])


def downgrade() -> None:
    op.drop_index("ix_notification_event_office", table_name="notification_event")
    op.drop_table("notification_event")
    op.drop_table("notification_address")
