"""The first schema: reports, case rooms, officers, evidence files, sessions, audit chain.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("audit_checkpoint",
                    sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("signature", sa.LargeBinary(), nullable=False),
                    sa.PrimaryKeyConstraint("sequence"))
    op.create_table("audit_entry",
                    sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("body", sa.LargeBinary(), nullable=False),
                    sa.Column("digest", sa.LargeBinary(), nullable=False),
                    sa.PrimaryKeyConstraint("sequence"))
    op.create_table("audit_head",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("sequence", sa.Integer(), nullable=False),
                    sa.Column("digest", sa.LargeBinary(), nullable=False),
                    sa.PrimaryKeyConstraint("id"))
    op.create_table("office",
                    sa.Column("code", sa.String(length=8), nullable=False),
                    sa.Column("public_key", sa.LargeBinary(), nullable=False),
                    sa.PrimaryKeyConstraint("code"))
    op.create_table("web_session",
                    sa.Column("id_digest", sa.LargeBinary(), nullable=False),
                    sa.Column("kind", sa.String(length=10), nullable=False),
                    sa.Column("payload", sa.LargeBinary(), nullable=False),
                    sa.Column("idle_until", sa.DateTime(timezone=True), nullable=False),
                    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint("id_digest"))
    op.create_table("case_file",
                    sa.Column("id", sa.String(length=40), nullable=False),
                    sa.Column("office", sa.String(length=8), nullable=False),
                    sa.Column("report_id", sa.String(length=40), nullable=False),
                    sa.Column("lookup", sa.LargeBinary(), nullable=False),
                    sa.Column("status", sa.String(length=40), nullable=False),
                    sa.Column("policy_version", sa.String(length=40), nullable=False),
                    sa.Column("received_on", sa.Date(), nullable=False),
                    sa.Column("acknowledged_on", sa.Date(), nullable=True),
                    sa.Column("unread", sa.Boolean(), nullable=False),
                    sa.Column("report", sa.LargeBinary(), nullable=False),
                    sa.Column("answers", sa.LargeBinary(), nullable=False),
                    sa.ForeignKeyConstraint(["office"], ["office.code"]),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_case_file_lookup", "case_file", ["lookup"], unique=False)
    op.create_index("ix_case_file_office", "case_file", ["office"], unique=False)
    op.create_index("ix_case_file_report_id", "case_file", ["report_id"], unique=False)
    op.create_table("officer",
                    sa.Column("id", sa.String(length=40), nullable=False),
                    sa.Column("username", sa.String(length=64), nullable=False),
                    sa.Column("office", sa.String(length=8), nullable=False),
                    sa.Column("public_key", sa.LargeBinary(), nullable=False),
                    sa.Column("password_salt", sa.LargeBinary(), nullable=False),
                    sa.Column("key_by_password", sa.LargeBinary(), nullable=False),
                    sa.Column("key_by_recovery", sa.LargeBinary(), nullable=False),
                    sa.Column("office_key_wrap", sa.LargeBinary(), nullable=True),
                    sa.Column("active", sa.Boolean(), nullable=False),
                    sa.ForeignKeyConstraint(["office"], ["office.code"]),
                    sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_officer_username", "officer", ["username"], unique=True)
    op.create_table("attachment",
                    sa.Column("number", sa.Integer(), nullable=False),
                    sa.Column("id", sa.String(length=40), nullable=False),
                    sa.Column("case_id", sa.String(length=40), nullable=False),
                    sa.Column("message_id", sa.String(length=40), nullable=True),
                    sa.Column("blob_id", sa.String(length=40), nullable=False),
                    sa.Column("key", sa.LargeBinary(), nullable=False),
                    sa.Column("meta", sa.LargeBinary(), nullable=False),
                    sa.Column("stored_size", sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
                    sa.PrimaryKeyConstraint("number"),
                    sa.UniqueConstraint("id"))
    op.create_index("ix_attachment_blob_id", "attachment", ["blob_id"], unique=False)
    op.create_index("ix_attachment_case_id", "attachment", ["case_id"], unique=False)
    op.create_table("casekeywrap",
                    sa.Column("case_id", sa.String(length=40), nullable=False),
                    sa.Column("holder", sa.String(length=20), nullable=False),
                    sa.Column("wrap", sa.LargeBinary(), nullable=False),
                    sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
                    sa.PrimaryKeyConstraint("case_id", "holder"))
    op.create_table("message",
                    sa.Column("number", sa.Integer(), nullable=False),
                    sa.Column("id", sa.String(length=40), nullable=False),
                    sa.Column("case_id", sa.String(length=40), nullable=False),
                    sa.Column("author", sa.String(length=10), nullable=False),
                    sa.Column("officer_id", sa.String(length=40), nullable=True),
                    sa.Column("sent_on", sa.Date(), nullable=False),
                    sa.Column("body", sa.LargeBinary(), nullable=False),
                    sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
                    sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
                    sa.PrimaryKeyConstraint("number"),
                    sa.UniqueConstraint("id"))
    op.create_index("ix_message_case", "message", ["case_id", "number"], unique=False)


def downgrade() -> None:
    for table in ("message", "casekeywrap", "attachment", "officer", "case_file", "web_session", "office",
                  "audit_head", "audit_entry", "audit_checkpoint"):
        op.drop_table(table)
