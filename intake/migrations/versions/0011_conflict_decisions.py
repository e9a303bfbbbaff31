"""Decisions on declared conflicts of interest, both ways, with a reason (ECO Charter 4.6-4.7).

Revision ID: 0011
Revises: 0010

A declaration is pending, upheld or lifted. A recusal lifted before this revision becomes a
"lifted" decision with no reason on record (none was asked for then); the audit log keeps
who lifted it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recusal") as batch:
        batch.add_column(sa.Column("decision", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("decided_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("decision_record_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("director_general", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_foreign_key("fk_recusal_decided_by_officer", "officer", ["decided_by"], ["id"])
    op.execute(
        "UPDATE recusal SET decision = 'lifted', decided_on = lifted_on, decided_by = lifted_by WHERE lifted_on IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("recusal") as batch:
        batch.drop_constraint("fk_recusal_decided_by_officer", type_="foreignkey")
        batch.drop_column("director_general")
        batch.drop_column("decision_record_id")
        batch.drop_column("decided_by")
        batch.drop_column("decided_on")
        batch.drop_column("decision")
