"""The tables. Rules that must always hold are database constraints too, not only checks in views."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlmodel import Field, SQLModel, col

from epro.codes import ENTERED_BY, LANGUAGES, ROLES, SEXES, SIGNATURE_MEANINGS, SessionState


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every database and always hands back an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: epro stores UTC only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utc_column(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _answer_is_an_option() -> ForeignKeyConstraint:
    """An answer's value is one of its item's options (a new constraint object for each table)."""
    return ForeignKeyConstraint(
        ["instrument_code", "instrument_version", "item_code", "value"],
        [
            "item_option.instrument_code",
            "item_option.instrument_version",
            "item_option.item_code",
            "item_option.value",
        ],
    )


class AnswerColumns(SQLModel):
    """What every answer row holds, a draft or a submitted one: the sitting, the item, the value and the
    language the item was shown in. Columns are given by type (`sa_type`), so each table gets its own."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="questionnaire_session.id", index=True)
    instrument_code: str = Field(sa_type=String(16), nullable=False)
    instrument_version: str = Field(sa_type=String(16), nullable=False)
    item_code: str = Field(sa_type=String(16), nullable=False)
    value: int
    #: The language the item was shown in.
    language: str = Field(sa_type=String(2), nullable=False)


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="ck_staff_role"),
        CheckConstraint(_in("preferred_language", LANGUAGES), name="ck_staff_language"),
    )
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    preferred_language: str = Field(default="ko", sa_column=Column(String(2), nullable=False))
    #: The printed (full) name shown with the person's electronic signatures (21 CFR 11.50); set by an admin.
    full_name: str | None = Field(default=None, sa_column=Column(String(128)))
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    #: Raised to end every session of the account (sign-out, password, role, deactivation): a session
    #: cookie carries the generation it was issued under and is refused once it differs (epro.sessions).
    session_generation: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class SignInFailure(SQLModel, table=True):
    """One failed staff sign-in, shared by every worker and server (epro.staff.throttle).

    `account` is the user name as typed (lower case), whether or not such an account exists."""

    __tablename__ = "signin_failure"
    __table_args__ = (
        Index("ix_signin_failure_account_at", "account", "at"),
        Index("ix_signin_failure_address_at", "address", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(sa_column=Column(String(64), nullable=False))
    address: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Instrument(SQLModel, table=True):
    """A mirror of one versioned instrument file, so answers can reference their allowed values."""

    __tablename__ = "instrument"
    code: str = Field(sa_column=Column(String(16), primary_key=True))
    version: str = Field(sa_column=Column(String(16), primary_key=True))
    checksum: str = Field(sa_column=Column(String(64), nullable=False))


class ItemOption(SQLModel, table=True):
    """One allowed (instrument, version, item, value); answers carry a foreign key to it."""

    __tablename__ = "item_option"
    __table_args__ = (
        ForeignKeyConstraint(
            ["instrument_code", "instrument_version"], ["instrument.code", "instrument.version"]
        ),
    )
    instrument_code: str = Field(sa_column=Column(String(16), primary_key=True))
    instrument_version: str = Field(sa_column=Column(String(16), primary_key=True))
    item_code: str = Field(sa_column=Column(String(16), primary_key=True))
    value: int = Field(primary_key=True)


class ProtocolVisit(SQLModel, table=True):
    """A mirror of one visit of a versioned protocol file; scheduled visits point to it."""

    __tablename__ = "protocol_visit"
    __table_args__ = (
        UniqueConstraint("protocol_code", "protocol_version", "code", name="uq_protocol_visit"),
        CheckConstraint("window_before >= 0 AND window_after >= 0", name="ck_protocol_visit_window"),
    )
    id: int | None = Field(default=None, primary_key=True)
    protocol_code: str = Field(sa_column=Column(String(32), nullable=False))
    protocol_version: str = Field(sa_column=Column(String(16), nullable=False))
    code: str = Field(sa_column=Column(String(16), nullable=False))
    number: int
    day: int
    window_before: int
    window_after: int
    instruments: str = Field(sa_column=Column(String(128), nullable=False))


class Patient(SQLModel, table=True):
    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint(_in("sex", SEXES), name="ck_patient_sex"),
        CheckConstraint(_in("preferred_language", LANGUAGES), name="ck_patient_language"),
        CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="ck_patient_birth_year"),
        CheckConstraint(
            "(procedure_date IS NULL) = (protocol_code IS NULL)", name="ck_patient_enrolment_complete"
        ),
        CheckConstraint(
            "(withdrawn_on IS NULL) = (withdrawal_reason IS NULL)", name="ck_patient_withdrawal_has_reason"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    #: Pseudonymous study ID; never a name or national ID number.
    study_id: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    birth_year: int
    sex: str = Field(sa_column=Column(String(1), nullable=False))
    preferred_language: str = Field(sa_column=Column(String(2), nullable=False))
    #: Day 0 of the study schedule; set at enrolment.
    procedure_date: date | None = None
    protocol_code: str | None = Field(default=None, sa_column=Column(String(32)))
    protocol_version: str | None = Field(default=None, sa_column=Column(String(16)))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    #: Withdrawn from the study (연구 중단) on this date, with a reason; open visits from then on are cancelled.
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = Field(default=None, sa_column=Column(String(500)))


class Visit(SQLModel, table=True):
    """A scheduled visit. Status is derived (see epro.schedule), never stored."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("patient_id", "code", name="uq_visit_patient_code"),
        CheckConstraint("window_start <= target_date AND target_date <= window_end", name="ck_visit_window"),
        CheckConstraint("(missed_reason IS NULL) = (missed_at IS NULL)", name="ck_visit_missed_has_reason"),
        CheckConstraint(
            "scheduled_date IS NULL OR (scheduled_date >= window_start AND scheduled_date <= window_end)"
            " OR reschedule_reason IS NOT NULL",
            name="ck_visit_reschedule_outside_window_has_reason",
        ),
        Index("ix_visit_window_start", "window_start"),
        Index("ix_visit_window_end", "window_end"),
        # The clinic list's "needs review" walks visits by the date they were done, newest first.
        Index("ix_visit_actual_date", "actual_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    protocol_visit_id: int = Field(foreign_key="protocol_visit.id")
    code: str = Field(sa_column=Column(String(16), nullable=False))
    number: int
    #: Planned day relative to day 0 (baseline is 0).
    study_day: int
    target_date: date
    window_start: date
    window_end: date
    #: Instrument codes due at this visit, space separated, in the order the patient sees them.
    instruments: str = Field(sa_column=Column(String(128), nullable=False))
    #: The appointment date when a nurse rescheduled the visit (the protocol's target date stays as it was).
    scheduled_date: date | None = None
    actual_date: date | None = None
    missed_reason: str | None = Field(default=None, sa_column=Column(String(500)))
    missed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reschedule_reason: str | None = Field(default=None, sa_column=Column(String(500)))

    @property
    def appointment_date(self) -> date:
        """When the visit is planned to happen: the rescheduled date, else the protocol's target date."""
        return self.scheduled_date or self.target_date

    @property
    def rescheduled_outside_window(self) -> bool:
        return self.scheduled_date is not None and not (
            self.window_start <= self.scheduled_date <= self.window_end
        )


#: The clinic list's due and upcoming sections read visits in appointment order (the rescheduled date, else
#: the target date): this index gives that order, and its window_end skips closed windows without reading
#: the row, so a day's list reads its first rows instead of sorting every visit of the window range. Visits
#: rescheduled to before their window opens, which that range cannot bound, are found through the second,
#: partial index (epro.staff.clinic; migration 0012).
Index(
    "ix_visit_appointment",
    func.coalesce(col(Visit.scheduled_date), col(Visit.target_date)),
    col(Visit.window_end),
)
Index(
    "ix_visit_rescheduled_window_start",
    col(Visit.window_start),
    sqlite_where=col(Visit.scheduled_date).is_not(None),
    postgresql_where=col(Visit.scheduled_date).is_not(None),
)


class MeasureSetFile(SQLModel, table=True):
    """A mirror of one versioned clinical measure set file (its checksum), like the instruments."""

    __tablename__ = "measure_set"
    #: "code-version", as clinical values name it: "liver-1.0".
    key: str = Field(sa_column=Column(String(16), primary_key=True))
    checksum: str = Field(sa_column=Column(String(64), nullable=False))


class ClinicalValue(SQLModel, table=True):
    """One clinical measurement at a visit (a laboratory value, weight, a dose or a grade), typed by a nurse.

    The measure's definition (unit, ranges, options) lives in the measure set file named by measure_set.
    """

    __tablename__ = "clinical_value"
    __table_args__ = (
        UniqueConstraint("visit_id", "measure_code", name="uq_clinical_value_visit_measure"),
        CheckConstraint("(value_number IS NULL) != (value_code IS NULL)", name="ck_clinical_value_one_value"),
        CheckConstraint(
            "(corrected_at IS NULL) = (correction_reason IS NULL)", name="ck_clinical_value_correction_reason"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    measure_code: str = Field(sa_column=Column(String(16), nullable=False))
    measure_set: str = Field(sa_column=Column(String(16), nullable=False))
    value_number: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 4)))
    value_code: str | None = Field(default=None, sa_column=Column(String(16)))
    #: The unit shown to the nurse when the value was entered.
    unit: str = Field(sa_column=Column(String(16), nullable=False))
    sample_date: date
    #: Outside the plausible range, saved only after the nurse confirmed it.
    out_of_range: bool = False
    #: None only for values no staff member typed here (weights moved by migration 0005 without a record of who).
    entered_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    entered_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    #: Set when staff corrected the value; the original is kept in the audit trail.
    corrected_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    correction_reason: str | None = Field(default=None, sa_column=Column(String(500)))

    @property
    def value(self) -> Decimal | str | None:
        return self.value_number if self.value_code is None else self.value_code


class PatientCharacteristic(SQLModel, table=True):
    """One baseline characteristic entered once at enrolment (aetiology, Child-Pugh inputs ...)."""

    __tablename__ = "patient_characteristic"
    __table_args__ = (
        UniqueConstraint("patient_id", "code", name="uq_patient_characteristic_code"),
        CheckConstraint(
            "(changed_at IS NULL) = (change_reason IS NULL)", name="ck_patient_characteristic_change_reason"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    code: str = Field(sa_column=Column(String(16), nullable=False))
    #: A category code, or a number written with the measure's decimals.
    value: str = Field(sa_column=Column(String(32), nullable=False))
    entered_by_id: int = Field(foreign_key="staff_user.id")
    entered_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    changed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    change_reason: str | None = Field(default=None, sa_column=Column(String(500)))


SESSION_STATES = tuple(SessionState)


class QuestionnaireSession(SQLModel, table=True):
    """One sitting of the questionnaires for a visit, on a tablet or entered by staff."""

    __tablename__ = "questionnaire_session"
    __table_args__ = (
        CheckConstraint(_in("state", SESSION_STATES), name="ck_session_state"),
        CheckConstraint(_in("entered_by", ENTERED_BY), name="ck_session_entered_by"),
        CheckConstraint("language IS NULL OR " + _in("language", LANGUAGES), name="ck_session_language"),
        CheckConstraint("(state = 'submitted') = (submitted_at IS NOT NULL)", name="ck_session_submitted_at"),
        CheckConstraint("entered_by = 'patient' OR staff_reason IS NOT NULL", name="ck_session_staff_reason"),
        # At most one live (in progress or submitted) session per visit.
        Index(
            "uq_session_live_per_visit",
            "visit_id",
            unique=True,
            sqlite_where=text("state != 'cancelled'"),
            postgresql_where=text("state != 'cancelled'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    #: Opaque token the tablet's forms echo back; a mismatch means a stale or tampered page.
    token: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    visit_id: int = Field(foreign_key="visit.id", index=True)
    state: str = Field(default=SessionState.IN_PROGRESS, sa_column=Column(String(16), nullable=False))
    entered_by: str = Field(default="patient", sa_column=Column(String(8), nullable=False))
    staff_reason: str | None = Field(default=None, sa_column=Column(String(500)))
    language: str | None = Field(default=None, sa_column=Column(String(2)))
    started_by_id: int = Field(foreign_key="staff_user.id")
    started_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_activity_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    submitted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DraftAnswer(AnswerColumns, table=True):
    """An answer given in a session that is not yet submitted; kept so a locked session can resume."""

    __tablename__ = "draft_answer"
    __table_args__ = (
        _answer_is_an_option(),
        UniqueConstraint("session_id", "instrument_code", "item_code", name="uq_draft_session_item"),
    )
    answered_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Response(AnswerColumns, table=True):
    """A submitted answer: one per visit and item, its value always one of the item's options."""

    __tablename__ = "response"
    __table_args__ = (
        _answer_is_an_option(),
        UniqueConstraint("visit_id", "instrument_code", "item_code", name="uq_response_visit_item"),
        CheckConstraint(_in("language", LANGUAGES), name="ck_response_language"),
        CheckConstraint(_in("entered_by", ENTERED_BY), name="ck_response_entered_by"),
        CheckConstraint(
            "(corrected_at IS NULL) = (correction_reason IS NULL)", name="ck_response_correction_reason"
        ),
    )
    visit_id: int = Field(foreign_key="visit.id", index=True)
    entered_by: str = Field(sa_column=Column(String(8), nullable=False))
    answered_at: datetime = Field(sa_column=utc_column())
    submitted_at: datetime = Field(sa_column=utc_column())
    #: The date the assessment was actually done: the clinic date of a tablet submission, or the date a nurse
    #: gives when transcribing answers (paper, phone). SDTM QSDTC and the baseline derive from it.
    assessment_date: date = Field(sa_column=Column(Date, nullable=False))
    #: Set when staff corrected the value; the original is kept in the audit trail.
    corrected_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    correction_reason: str | None = Field(default=None, sa_column=Column(String(500)))


class ChangeReview(SQLModel, table=True):
    """A nurse's acknowledgement, with a note, of a submitted visit whose change from baseline reached the
    protocol's threshold downward. Until it exists, the visit shows in the clinic list as needing review."""

    __tablename__ = "change_review"
    __table_args__ = (UniqueConstraint("visit_id", name="uq_change_review_visit"),)
    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id")
    note: str = Field(sa_column=Column(String(500), nullable=False))
    acknowledged_by_id: int = Field(foreign_key="staff_user.id")
    acknowledged_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class AuditEvent(SQLModel, table=True):
    """Append-only (database triggers refuse UPDATE and DELETE); each row hashes the one before it."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    #: Who acted: an epro.codes.ActorType.
    actor_type: str = Field(sa_column=Column(String(16), nullable=False))
    actor_id: int | None = None
    actor_name: str | None = Field(default=None, sa_column=Column(String(64)))
    action: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    entity: str = Field(sa_column=Column(String(32), nullable=False))
    entity_id: str | None = Field(default=None, sa_column=Column(String(64)))
    field: str | None = Field(default=None, sa_column=Column(String(64)))
    old_value: str | None = Field(default=None, sa_column=Column(String(2000)))
    new_value: str | None = Field(default=None, sa_column=Column(String(2000)))
    reason: str | None = Field(default=None, sa_column=Column(String(500)))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    #: Which secret keyed the hash (HMAC-SHA256, epro.audit.keys); NULL: a plain SHA-256 from before keys.
    key_id: str | None = Field(default=None, sa_column=Column(String(16)))


REDACTABLE_FIELDS = ("actor_name", "old_value", "new_value", "reason")


class AuditRedaction(SQLModel, table=True):
    """Free text removed from one audit event (personal data entered by mistake). The event's field is set
    to NULL (the database allows only that change, and only with this row); the keyed digest of the text
    kept here (HMAC-SHA256) lets the event's keyed hash still be checked. Append-only like the trail."""

    __tablename__ = "audit_redaction"
    __table_args__ = (
        UniqueConstraint("event_id", "field", name="uq_audit_redaction_event_field"),
        CheckConstraint(_in("field", REDACTABLE_FIELDS), name="ck_audit_redaction_field"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="audit_event.id", index=True)
    field: str = Field(sa_column=Column(String(16), nullable=False))
    text_digest: str = Field(sa_column=Column(String(64), nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
    redacted_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Signature(SQLModel, table=True):
    """An investigator's electronic signature over one patient's data (21 CFR 11.50, 11.70).

    Never updated or deleted: a later change to the data supersedes it (see epro.signatures), and signing
    again adds a new row. The hash binds it to exactly the data signed, so it cannot be moved to other data.
    """

    __tablename__ = "signature"
    __table_args__ = (
        CheckConstraint(_in("meaning", SIGNATURE_MEANINGS), name="ck_signature_meaning"),
        CheckConstraint(_in("signer_role", ROLES), name="ck_signature_role"),
        Index("ix_signature_patient", "patient_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    signer_id: int = Field(foreign_key="staff_user.id")
    #: The signer's printed name and role as they were at signing.
    signer_name: str = Field(sa_column=Column(String(128), nullable=False))
    signer_role: str = Field(sa_column=Column(String(16), nullable=False))
    meaning: str = Field(sa_column=Column(String(16), nullable=False))
    signed_at: datetime = Field(sa_column=utc_column())
    #: The same moment in the clinic's time, as shown to the signer (ISO 8601 with offset) and its zone.
    signed_at_clinic: str = Field(sa_column=Column(String(32), nullable=False))
    clinic_zone: str = Field(sa_column=Column(String(64), nullable=False))
    #: Version of the canonical serialisation the hash was taken over (epro.signatures.content).
    content_format: str = Field(sa_column=Column(String(16), nullable=False))
    #: SHA-256 (hex) of the canonical serialisation of the patient's data at signing.
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))


# The study overview's tallies (epro.study.tallies; migration 0011). Derived data, rebuilt from the tables
# above whenever missing, so nothing here is a record of its own:
# - ``StudyTally``: how many values of each kind there are, per visit, measure and value (values and changes
#   from baseline scaled to whole numbers, exact on both databases), plus Table 1's counts and ages;
# - ``StudyVisitTally``: the visits by code, state and window, from which the completion counts of any clinic
#   date follow in one small grouped query;
# - ``StudyPatientTally``: each patient's own share of both, so a patient's data can be tallied again exactly
#   (old share out, new share in);
# - ``StudyTallyState``: which protocol the tallies describe, the audit event they are current to, and the
#   statistics of every group of values, recomputed only for the groups a change touches.


class StudyTally(SQLModel, table=True):
    __tablename__ = "study_tally"

    #: value, change, age, sex, char (a categorical baseline characteristic), cp (Child-Pugh class).
    kind: str = Field(sa_column=Column(String(8), primary_key=True))
    visit_code: str = Field(sa_column=Column(String(16), primary_key=True))
    measure: str = Field(sa_column=Column(String(64), primary_key=True))
    category: str = Field(sa_column=Column(String(32), primary_key=True))
    #: The value times epro.study.contributions.SCALE (0 for counts of a category).
    value: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    n: int = Field(sa_column=Column(Integer, nullable=False))


class StudyVisitTally(SQLModel, table=True):
    __tablename__ = "study_visit_tally"

    visit_code: str = Field(sa_column=Column(String(16), primary_key=True))
    #: completed, missed, cancelled, or open (upcoming, due or overdue, by the clinic's date).
    state: str = Field(sa_column=Column(String(16), primary_key=True))
    staff: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    late: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    window_start: date = Field(sa_column=Column(Date, primary_key=True))
    window_end: date = Field(sa_column=Column(Date, primary_key=True))
    n: int = Field(sa_column=Column(Integer, nullable=False))


class StudyPatientTally(SQLModel, table=True):
    __tablename__ = "study_patient_tally"

    patient_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    #: JSON: the patient's StudyTally and StudyVisitTally entries.
    entries: str = Field(sa_column=Column(Text, nullable=False))


class StudyTallyState(SQLModel, table=True):
    __tablename__ = "study_tally_state"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    #: The protocol (code and version) and the tallies' format the rows were made for.
    context: str = Field(sa_column=Column(String(64), nullable=False))
    #: Every audit event up to this one is in the tallies.
    audit_id: int = Field(sa_column=Column(Integer, nullable=False))
    #: JSON: the statistics of each group (kind, visit, measure) of StudyTally's values.
    summaries: str = Field(sa_column=Column(Text, nullable=False))
