"""A record with a key of its own: the memo an office writes when it returns a case to an office
that handled it before, whose handling key the writer cannot open.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("key_wrap", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("key_wrap")
