"""Security hardening: a session generation per staff account (ending every session of an account is one
update), and failed sign-ins counted in the database so every worker and server sees the same counts.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from epro.models import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "signin_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signin_failure_account_at", "signin_failure", ["account", "at"], unique=False)
    op.create_index("ix_signin_failure_address_at", "signin_failure", ["address", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signin_failure_address_at", table_name="signin_failure")
    op.drop_index("ix_signin_failure_account_at", table_name="signin_failure")
    op.drop_table("signin_failure")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
