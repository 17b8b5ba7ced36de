"""Withdrawal from the study: the date and the reason, both or neither.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.String(length=500), nullable=True))
        batch_op.create_check_constraint(
            "ck_patient_withdrawal_has_reason", "(withdrawn_on IS NULL) = (withdrawal_reason IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_constraint("ck_patient_withdrawal_has_reason", type_="check")
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_on")
