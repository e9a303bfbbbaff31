"""Blobs may be kept in the database (INTAKE_BLOBS=database): the blob_chunk table (#28).

Empty until an instance moves its blobs in (`intake blobs move --to database`) or files arrive
with the database store. Its chunks are ciphertext, which no compression shrinks: stored
EXTERNAL (out of line, never compressed) on PostgreSQL, so no time is spent trying.

Revision ID: 0016
Revises: 0013_disclosure (0015 once the branches of #27 and #28 are merged: the lead relinks)
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_chunk",
        sa.Column("blob_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("blob_id", "seq"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    """Refused while the table holds blobs: dropping it would lose every file kept there."""
    if op.get_bind().exec_driver_sql("SELECT 1 FROM blob_chunk LIMIT 1").first():
        raise RuntimeError("blobs are kept in the database: `intake blobs move --to filesystem` first")
    op.drop_table("blob_chunk")
