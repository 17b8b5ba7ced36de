"""Change review: a nurse's acknowledgement (with a note) of a clinically meaningful change from baseline;
an index on visit.actual_date for the clinic list's "needs review" (newest first). Creating an index does not
rebuild the table on SQLite, so the audit triggers are untouched.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["acknowledged_by_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", name="uq_change_review_visit"),
    )
    op.create_index("ix_visit_actual_date", "visit", ["actual_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_visit_actual_date", table_name="visit")
    op.drop_table("change_review")
