"""A report form's receipt held with its sending until its passphrase page is shown.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sending") as batch:
        batch.add_column(sa.Column("held", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sending") as batch:
        batch.drop_column("held")
