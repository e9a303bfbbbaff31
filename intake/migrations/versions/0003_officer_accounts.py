"""Officer accounts: password hashes, two-factor secrets, login throttling; session subjects.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officer") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("totp_by_password", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("totp_by_recovery", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("last_totp_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("web_session") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=40), nullable=True))
        batch.create_index("ix_web_session_subject", ["subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.drop_index("ix_web_session_subject")
        batch.drop_column("subject")
    with op.batch_alter_table("officer") as batch:
        for column in ("locked_until", "failed_logins", "last_totp_step", "totp_by_recovery", "totp_by_password", "password_hash"):
            batch.drop_column(column)
