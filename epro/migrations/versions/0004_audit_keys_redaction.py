"""Keyed audit hashes and redaction: audit_event.key_id, the audit_redaction table, and append-only
guards that allow exactly one kind of UPDATE: setting a free-text field of an event to NULL when an
audit_redaction row for that event and field exists (made in the same transaction by epro.audit.redaction).

On SQLite the guard is the old UPDATE trigger with a WHEN clause; on PostgreSQL the statement trigger
becomes a row trigger (same name, so `ALTER TABLE ... DISABLE TRIGGER audit_event_append_only` still
switches the guard off for the owner) plus a separate statement trigger that refuses TRUNCATE.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import epro.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "audit_event is append-only"
FIXED = (
    "id",
    "at",
    "actor_type",
    "actor_id",
    "action",
    "entity",
    "entity_id",
    "field",
    "prev_hash",
    "hash",
    "key_id",
)
REDACTABLE = ("actor_name", "old_value", "new_value", "reason")


def _redaction_allowed(same: str) -> str:
    """SQL true when only redactable fields changed, each to NULL with its audit_redaction row."""
    fixed = " AND ".join(same.format(c=c) for c in FIXED)
    texts = " AND ".join(
        f"({same.format(c=c)} OR (NEW.{c} IS NULL AND EXISTS (SELECT 1 FROM audit_redaction r "
        f"WHERE r.event_id = OLD.id AND r.field = '{c}')))"
        for c in REDACTABLE
    )
    return f"{fixed} AND {texts}"


def _sqlite_guards(allow_redaction: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    when = f" WHEN NOT ({_redaction_allowed('NEW.{c} IS OLD.{c}')})" if allow_redaction else ""
    op.execute(
        f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event{when} "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("audit_event", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "audit_redaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("text_digest", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("redacted_at", epro.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "field IN ('actor_name', 'old_value', 'new_value', 'reason')", name="ck_audit_redaction_field"
        ),
        sa.ForeignKeyConstraint(["event_id"], ["audit_event.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "field", name="uq_audit_redaction_event_field"),
    )
    op.create_index("ix_audit_redaction_event_id", "audit_redaction", ["event_id"], unique=False)
    if sqlite:
        _sqlite_guards(allow_redaction=True)
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_redaction_no_{verb.lower()} BEFORE {verb} ON audit_redaction "
                "BEGIN SELECT RAISE(ABORT, 'audit_redaction is append-only'); END"
            )
        return
    op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
    allowed = _redaction_allowed("NEW.{c} IS NOT DISTINCT FROM OLD.{c}")
    op.execute(
        "CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' AND {allowed} THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()"
    )
    op.execute(
        "CREATE FUNCTION audit_redaction_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_redaction is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_redaction_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_redaction "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_redaction_refuse()"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_redaction_no_{verb}")
            op.execute(f"DROP TRIGGER audit_event_no_{verb}")
    else:
        op.execute("DROP TRIGGER audit_redaction_append_only ON audit_redaction")
        op.execute("DROP FUNCTION audit_redaction_refuse()")
        op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_guard()")
    op.drop_index("ix_audit_redaction_event_id", table_name="audit_redaction")
    op.drop_table("audit_redaction")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    if sqlite:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    else:
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()"
        )
