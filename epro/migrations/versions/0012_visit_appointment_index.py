"""Two indexes for the clinic list: visits by appointment date (the rescheduled date, else the target date)
with their window's end, in which order the due and upcoming sections read; and the rescheduled visits by
window start, for a visit rescheduled to before its window opened. Creating an index does not rebuild the
table on SQLite, so the audit triggers are untouched.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visit_appointment", "visit", [sa.text("coalesce(scheduled_date, target_date)"), "window_end"]
    )
    op.create_index(
        "ix_visit_rescheduled_window_start",
        "visit",
        ["window_start"],
        sqlite_where=sa.text("scheduled_date IS NOT NULL"),
        postgresql_where=sa.text("scheduled_date IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_visit_rescheduled_window_start", table_name="visit")
    op.drop_index("ix_visit_appointment", table_name="visit")
