"""Case work: each office's handling of a case, sealed case actions, the office of a message.

A case's status, acknowledgement and unread flag move from case_file into case_handling,
one row per office, so a referral can add OIG's handling beside ECO's.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("case_handling",
                    sa.Column("case_id", sa.String(length=40), nullable=False),
                    sa.Column("office", sa.String(length=8), nullable=False),
                    sa.Column("status", sa.String(length=40), nullable=False),
                    sa.Column("policy_version", sa.String(length=40), nullable=False),
                    sa.Column("opened_on", sa.Date(), nullable=False),
                    sa.Column("acknowledged_on", sa.Date(), nullable=True),
                    sa.Column("first_response_on", sa.Date(), nullable=True),
                    sa.Column("last_feedback_on", sa.Date(), nullable=True),
                    sa.Column("assessment_concluded_on", sa.Date(), nullable=True),
                    sa.Column("closed_on", sa.Date(), nullable=True),
                    sa.Column("warned_on", sa.Date(), nullable=True),
                    sa.Column("consent", sa.String(length=10), nullable=True),
                    sa.Column("consent_on", sa.Date(), nullable=True),
                    sa.Column("unread", sa.Boolean(), nullable=False),
                    sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
                    sa.ForeignKeyConstraint(["office"], ["office.code"]),
                    sa.PrimaryKeyConstraint("case_id", "office"))
    op.create_table("case_action",
                    sa.Column("number", sa.Integer(), nullable=False),
                    sa.Column("id", sa.String(length=40), nullable=False),
                    sa.Column("case_id", sa.String(length=40), nullable=False),
                    sa.Column("office", sa.String(length=8), nullable=False),
                    sa.Column("recorded_on", sa.Date(), nullable=False),
                    sa.Column("body", sa.LargeBinary(), nullable=False),
                    sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
                    sa.PrimaryKeyConstraint("number"),
                    sa.UniqueConstraint("id"))
    op.create_index("ix_case_action_case_id", "case_action", ["case_id"], unique=False)
    op.execute("""
        INSERT INTO case_handling (case_id, office, status, policy_version, opened_on, acknowledged_on, unread)
        SELECT id, office, status, policy_version, received_on, acknowledged_on, unread FROM case_file
    """)
    # The first response is the acknowledgement or the first officer message, whichever came first.
    op.execute("""
        UPDATE case_handling SET
            first_response_on = (SELECT MIN(m.sent_on) FROM message m WHERE m.case_id = case_handling.case_id AND m.author = 'officer'),
            last_feedback_on = (SELECT MAX(m.sent_on) FROM message m WHERE m.case_id = case_handling.case_id AND m.author = 'officer')
    """)
    op.execute("""
        UPDATE case_handling SET first_response_on = acknowledged_on
        WHERE acknowledged_on IS NOT NULL AND (first_response_on IS NULL OR acknowledged_on < first_response_on)
    """)
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("office", sa.String(length=8), nullable=True))
    op.execute("UPDATE message SET office = (SELECT officer.office FROM officer WHERE officer.id = message.officer_id) "
               "WHERE officer_id IS NOT NULL")
    with op.batch_alter_table("case_file") as batch:
        batch.drop_column("status")
        batch.drop_column("acknowledged_on")
        batch.drop_column("unread")


def downgrade() -> None:
    with op.batch_alter_table("case_file") as batch:
        batch.add_column(sa.Column("status", sa.String(length=40), nullable=False, server_default="received"))
        batch.add_column(sa.Column("acknowledged_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("unread", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("""
        UPDATE case_file SET
            status = COALESCE((SELECT h.status FROM case_handling h WHERE h.case_id = case_file.id AND h.office = case_file.office), 'received'),
            acknowledged_on = (SELECT h.acknowledged_on FROM case_handling h WHERE h.case_id = case_file.id AND h.office = case_file.office),
            unread = COALESCE((SELECT h.unread FROM case_handling h WHERE h.case_id = case_file.id AND h.office = case_file.office), TRUE)
    """)
    with op.batch_alter_table("message") as batch:
        batch.drop_column("office")
    op.drop_index("ix_case_action_case_id", table_name="case_action")
    op.drop_table("case_action")
    op.drop_table("case_handling")
