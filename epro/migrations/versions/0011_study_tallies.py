"""The study overview's tallies (tables in epro.models): counts per visit, measure and value, the visits by
state and window, each patient's share of them, and the audit event they are current to. Derived data: the
tables start empty and the first view of the study overview fills them.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "study_tally",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("visit_code", sa.String(length=16), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "visit_code", "measure", "category", "value"),
    )
    op.create_table(
        "study_visit_tally",
        sa.Column("visit_code", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("staff", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("late", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("visit_code", "state", "staff", "late", "window_start", "window_end"),
    )
    op.create_table(
        "study_patient_tally",
        sa.Column("patient_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_table(
        "study_tally_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("context", sa.String(length=64), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("summaries", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    for table in ("study_tally_state", "study_patient_tally", "study_visit_tally", "study_tally"):
        op.drop_table(table)
