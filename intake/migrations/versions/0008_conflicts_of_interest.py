"""Conflicts of interest: the head of an office, and officers' recusals from cases.

Revision ID: 0008
Revises: 0007

An office with a single active officer makes that officer its head; otherwise the operator
names one with `intake officer role` (the first head of an office needs no other's consent).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officer") as batch:
        batch.add_column(sa.Column("head", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE officer SET head = TRUE WHERE active AND office IN "
        "(SELECT office FROM officer WHERE active GROUP BY office HAVING COUNT(*) = 1)"
    )
    op.create_table(
        "recusal",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("officer_id", sa.String(length=40), nullable=False),
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("lifted_on", sa.Date(), nullable=True),
        sa.Column("lifted_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.ForeignKeyConstraint(["lifted_by"], ["officer.id"]),
        sa.ForeignKeyConstraint(["office"], ["office.code"]),
        sa.PrimaryKeyConstraint("case_id", "officer_id"),
    )


def downgrade() -> None:
    op.drop_table("recusal")
    with op.batch_alter_table("officer") as batch:
        batch.drop_column("head")
