"""Audit actor type up to 16 characters: "anonymous" (a failed sign-in) did not fit in 8 on PostgreSQL.

SQLite never enforced the length, but the column is widened there too so both schemas stay the same. On
SQLite that means rebuilding the table (batch mode), and a rebuilt table loses its triggers: the
append-only guards are dropped first and created again after.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "audit_event is append-only"


def _resize(old: int, new: int) -> None:
    if op.get_bind().dialect.name != "sqlite":
        # Widening a varchar is a catalog change on PostgreSQL: no rewrite, no row touched.
        op.alter_column(
            "audit_event",
            "actor_type",
            type_=sa.String(length=new),
            existing_type=sa.String(length=old),
            existing_nullable=False,
        )
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER audit_event_no_{verb}")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column(
            "actor_type",
            type_=sa.String(length=new),
            existing_type=sa.String(length=old),
            existing_nullable=False,
        )
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def upgrade() -> None:
    _resize(8, 16)


def downgrade() -> None:
    _resize(16, 8)
