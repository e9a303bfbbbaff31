"""Security, second pass: the audit head is signed on every append.

Revision ID: 0007
Revises: 0006

The signature of an existing head is written by `intake migrate` once the schema is up to
date (it needs the instance's signing key, which the database never holds).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("signature")
