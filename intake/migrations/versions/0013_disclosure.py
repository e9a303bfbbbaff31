"""Budget rows count whole days: the rows kept per hour go (#24 item 15).

Rows written before this revision are keyed by their hour; with the instance's key, their
keys give back the hour and the count of reports filed in it. They cannot be folded into
day rows without that key (the migration never holds it), and they are only abuse counters
kept two days, so they are deleted: each budget starts the day again from nothing.

Revision ID: 0013_disclosure
Revises: 0012
"""

from alembic import op

revision = "0013_disclosure"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM budget")


def downgrade() -> None:
    """Nothing to restore: the day rows count as hour rows would, a little more generously."""
