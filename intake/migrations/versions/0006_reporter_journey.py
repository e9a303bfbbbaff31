"""The reporter's journey: one report per sending, advice requests, identity in escrow.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_file") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="report"))
    with op.batch_alter_table("case_handling") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="report"))
    op.create_table(
        "sending",
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_table(
        "identity",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("reporter_wrap", sa.LargeBinary(), nullable=False),
        sa.Column("office_wrap", sa.LargeBinary(), nullable=True),
        sa.Column("shared_on", sa.Date(), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("identity")
    op.drop_table("sending")
    with op.batch_alter_table("case_handling") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("case_file") as batch:
        batch.drop_column("kind")
