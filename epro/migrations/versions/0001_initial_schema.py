"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-30 03:53:32.589455
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import epro.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "audit_event is append-only"


def create_audit_guards() -> None:
    """The application cannot update or delete an audit row: the database refuses."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()"
        )


def drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute("DROP TRIGGER audit_event_no_delete")
    else:
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_refuse()")


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("actor_type", sa.String(length=8), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.String(length=2000), nullable=True),
        sa.Column("new_value", sa.String(length=2000), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)

    op.create_table(
        "instrument",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", "version"),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.String(length=32), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("preferred_language", sa.String(length=2), nullable=False),
        sa.Column("procedure_date", sa.Date(), nullable=True),
        sa.Column("protocol_code", sa.String(length=32), nullable=True),
        sa.Column("protocol_version", sa.String(length=16), nullable=True),
        sa.Column("created_at", epro.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("preferred_language IN ('ko', 'en')", name="ck_patient_language"),
        sa.CheckConstraint("sex IN ('M', 'F')", name="ck_patient_sex"),
        sa.CheckConstraint(
            "(procedure_date IS NULL) = (protocol_code IS NULL)", name="ck_patient_enrolment_complete"
        ),
        sa.CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="ck_patient_birth_year"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id"),
    )
    op.create_table(
        "protocol_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_code", sa.String(length=32), nullable=False),
        sa.Column("protocol_version", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("window_before", sa.Integer(), nullable=False),
        sa.Column("window_after", sa.Integer(), nullable=False),
        sa.Column("instruments", sa.String(length=128), nullable=False),
        sa.CheckConstraint("window_before >= 0 AND window_after >= 0", name="ck_protocol_visit_window"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("protocol_code", "protocol_version", "code", name="uq_protocol_visit"),
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("preferred_language", sa.String(length=2), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", epro.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("preferred_language IN ('ko', 'en')", name="ck_staff_language"),
        sa.CheckConstraint("role IN ('nurse', 'investigator', 'admin')", name="ck_staff_role"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "item_option",
        sa.Column("instrument_code", sa.String(length=16), nullable=False),
        sa.Column("instrument_version", sa.String(length=16), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_code", "instrument_version"],
            ["instrument.code", "instrument.version"],
        ),
        sa.PrimaryKeyConstraint("instrument_code", "instrument_version", "item_code", "value"),
    )
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("protocol_visit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("study_day", sa.Integer(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("instruments", sa.String(length=128), nullable=False),
        sa.Column("actual_date", sa.Date(), nullable=True),
        sa.Column("weight_kg", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("missed_reason", sa.String(length=500), nullable=True),
        sa.Column("missed_at", epro.models.UTCDateTime(), nullable=True),
        sa.Column("reschedule_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(missed_reason IS NULL) = (missed_at IS NULL)", name="ck_visit_missed_has_reason"
        ),
        sa.CheckConstraint(
            "weight_kg IS NULL OR (weight_kg >= 20 AND weight_kg <= 300)", name="ck_visit_weight"
        ),
        sa.CheckConstraint(
            "window_start <= target_date AND target_date <= window_end", name="ck_visit_window"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["protocol_visit_id"],
            ["protocol_visit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id", "code", name="uq_visit_patient_code"),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "questionnaire_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.String(length=8), nullable=False),
        sa.Column("staff_reason", sa.String(length=500), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("started_at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("last_activity_at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", epro.models.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "(state = 'submitted') = (submitted_at IS NOT NULL)", name="ck_session_submitted_at"
        ),
        sa.CheckConstraint(
            "entered_by = 'patient' OR staff_reason IS NOT NULL", name="ck_session_staff_reason"
        ),
        sa.CheckConstraint("entered_by IN ('patient', 'staff')", name="ck_session_entered_by"),
        sa.CheckConstraint("language IS NULL OR language IN ('ko', 'en')", name="ck_session_language"),
        sa.CheckConstraint("state IN ('in_progress', 'submitted', 'cancelled')", name="ck_session_state"),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["staff_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("questionnaire_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questionnaire_session_visit_id"), ["visit_id"], unique=False)
        batch_op.create_index(
            "uq_session_live_per_visit",
            ["visit_id"],
            unique=True,
            sqlite_where=sa.text("state != 'cancelled'"),
            postgresql_where=sa.text("state != 'cancelled'"),
        )

    op.create_table(
        "draft_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("instrument_code", sa.String(length=16), nullable=False),
        sa.Column("instrument_version", sa.String(length=16), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("answered_at", epro.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_code", "instrument_version", "item_code", "value"],
            [
                "item_option.instrument_code",
                "item_option.instrument_version",
                "item_option.item_code",
                "item_option.value",
            ],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["questionnaire_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "instrument_code", "item_code", name="uq_draft_session_item"),
    )
    with op.batch_alter_table("draft_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draft_answer_session_id"), ["session_id"], unique=False)

    op.create_table(
        "response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("instrument_code", sa.String(length=16), nullable=False),
        sa.Column("instrument_version", sa.String(length=16), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("entered_by", sa.String(length=8), nullable=False),
        sa.Column("answered_at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", epro.models.UTCDateTime(), nullable=False),
        sa.Column("corrected_at", epro.models.UTCDateTime(), nullable=True),
        sa.Column("correction_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("entered_by IN ('patient', 'staff')", name="ck_response_entered_by"),
        sa.CheckConstraint("language IN ('ko', 'en')", name="ck_response_language"),
        sa.CheckConstraint(
            "(corrected_at IS NULL) = (correction_reason IS NULL)", name="ck_response_correction_reason"
        ),
        sa.ForeignKeyConstraint(
            ["instrument_code", "instrument_version", "item_code", "value"],
            [
                "item_option.instrument_code",
                "item_option.instrument_version",
                "item_option.item_code",
                "item_option.value",
            ],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["questionnaire_session.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", "instrument_code", "item_code", name="uq_response_visit_item"),
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_response_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_response_visit_id"), ["visit_id"], unique=False)

    create_audit_guards()


def downgrade() -> None:
    drop_audit_guards()
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_visit_id"))
        batch_op.drop_index(batch_op.f("ix_response_session_id"))

    op.drop_table("response")
    with op.batch_alter_table("draft_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_answer_session_id"))

    op.drop_table("draft_answer")
    with op.batch_alter_table("questionnaire_session", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_session_live_per_visit",
            sqlite_where=sa.text("state != 'cancelled'"),
            postgresql_where=sa.text("state != 'cancelled'"),
        )
        batch_op.drop_index(batch_op.f("ix_questionnaire_session_visit_id"))

    op.drop_table("questionnaire_session")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_patient_id"))

    op.drop_table("visit")
    op.drop_table("item_option")
    op.drop_table("staff_user")
    op.drop_table("protocol_visit")
    op.drop_table("patient")
    op.drop_table("instrument")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
