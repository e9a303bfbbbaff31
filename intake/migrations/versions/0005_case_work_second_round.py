"""Case work, second round: handling keys, assignment, the prima facie determination, deadline
extensions, per-officer reading, the protection file, an office's own records, and the case id
of each audit entry.

Nothing sealed is touched here (a migration holds no key): old case actions stay sealed under
the case key until the owning office next opens the case, which moves them (casework.py).
`intake migrate` then recomputes every handling's next deadline from the policy.

Revision ID: 0005
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_handling") as batch:
        batch.add_column(sa.Column("key_wrap", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("determination", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("determined_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("extensions", sa.String(length=200), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("activity", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("next_due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("next_due", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("open_measures", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key("fk_case_handling_assignee", "officer", ["assignee"], ["id"])
        batch.create_index("ix_case_handling_assignee", ["assignee"], unique=False)
        batch.create_index("ix_case_handling_next_due_on", ["next_due_on"], unique=False)
    # A handling nobody had read yet stays unread for everyone (no reading row): activity 1 > seen 0.
    op.execute("UPDATE case_handling SET activity = 1")
    with op.batch_alter_table("case_handling") as batch:
        batch.drop_column("unread")

    op.create_table(
        "case_reading",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("officer_id", sa.String(length=40), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("case_id", "officer_id"),
    )
    op.create_table(
        "case_record",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("officer_id", sa.String(length=40), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["office"], ["office.code"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_case_record_case_id", "case_record", ["case_id"], unique=False)
    op.create_table(
        "protective_measure",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("recommended_on", sa.Date(), nullable=False),
        sa.Column("status_on", sa.Date(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["office"], ["office.code"]),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_protective_measure_case_id", "protective_measure", ["case_id"], unique=False)

    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("case_id", sa.String(length=40), nullable=True))
        batch.create_index("ix_audit_entry_case_id", ["case_id"], unique=False)
    connection = op.get_bind()
    entries = sa.table("audit_entry", sa.column("sequence", sa.Integer), sa.column("body", sa.LargeBinary),
                       sa.column("case_id", sa.String))
    for sequence, body in connection.execute(sa.select(entries.c.sequence, entries.c.body)).all():
        case_id = json.loads(bytes(body)).get("case")
        if case_id:
            connection.execute(entries.update().where(entries.c.sequence == sequence).values(case_id=case_id))


def downgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_index("ix_audit_entry_case_id")
        batch.drop_column("case_id")
    op.drop_index("ix_protective_measure_case_id", table_name="protective_measure")
    op.drop_table("protective_measure")
    op.drop_index("ix_case_record_case_id", table_name="case_record")
    op.drop_table("case_record")
    op.drop_table("case_reading")
    with op.batch_alter_table("case_handling") as batch:
        batch.add_column(sa.Column("unread", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("case_handling") as batch:
        batch.drop_index("ix_case_handling_next_due_on")
        batch.drop_index("ix_case_handling_assignee")
        batch.drop_constraint("fk_case_handling_assignee", type_="foreignkey")
        for column in ("open_measures", "next_due", "next_due_on", "activity", "extensions", "determined_on",
                       "determination", "assignee", "key_wrap"):
            batch.drop_column(column)
