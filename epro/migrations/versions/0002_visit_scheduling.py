"""Visit scheduling: a rescheduled appointment date, and indexes for the clinic list.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_date", sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            "ck_visit_reschedule_outside_window_has_reason",
            "scheduled_date IS NULL OR (scheduled_date >= window_start AND scheduled_date <= window_end)"
            " OR reschedule_reason IS NOT NULL",
        )
        batch_op.create_index("ix_visit_window_start", ["window_start"], unique=False)
        batch_op.create_index("ix_visit_window_end", ["window_end"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_window_end")
        batch_op.drop_index("ix_visit_window_start")
        batch_op.drop_constraint("ck_visit_reschedule_outside_window_has_reason", type_="check")
        batch_op.drop_column("scheduled_date")
