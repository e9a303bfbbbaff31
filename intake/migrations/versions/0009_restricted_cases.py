"""Restricted cases: a case that concerns someone in the receiving office is held by a keypair
of its own, whose private key is wrapped to the office's heads (and to officers they share it with).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_handling") as batch:
        batch.add_column(sa.Column("restricted_key", sa.LargeBinary(), nullable=True))
    op.create_table(
        "restriction_wrap",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("officer_id", sa.String(length=40), nullable=False),
        sa.Column("wrap", sa.LargeBinary(), nullable=False),
        sa.Column("shared_by", sa.String(length=40), nullable=True),
        sa.Column("shared_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["office"], ["office.code"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.ForeignKeyConstraint(["shared_by"], ["officer.id"]),
        sa.PrimaryKeyConstraint("case_id", "office", "officer_id"),
    )


def downgrade() -> None:
    op.drop_table("restriction_wrap")
    with op.batch_alter_table("case_handling") as batch:
        batch.drop_column("restricted_key")
