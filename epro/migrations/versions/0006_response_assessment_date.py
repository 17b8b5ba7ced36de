"""Every answer carries its assessment date (the date the assessment was actually done).

Existing answers get their visit's actual date (set when the answers were submitted), else the UTC date of
the submission. On SQLite the NOT NULL is added by rebuilding the table (batch mode); response has no
triggers, so nothing else needs recreating.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assessment_date", sa.Date(), nullable=True))
    op.execute(
        "UPDATE response SET assessment_date = COALESCE("
        "(SELECT visit.actual_date FROM visit WHERE visit.id = response.visit_id), "
        "CAST(submitted_at AS DATE))"
        if op.get_bind().dialect.name != "sqlite"
        else "UPDATE response SET assessment_date = COALESCE("
        "(SELECT visit.actual_date FROM visit WHERE visit.id = response.visit_id), date(submitted_at))"
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.alter_column("assessment_date", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("assessment_date")
