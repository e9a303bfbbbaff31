"""A preliminary assessment reopened runs its own 30 days: the day it started again.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_handling") as batch:
        batch.add_column(sa.Column("assessment_started_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_handling") as batch:
        batch.drop_column("assessment_started_on")
