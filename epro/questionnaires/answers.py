"""Answers, whichever way they arrive: drafted on the tablet and submitted all at once, entered by staff
on the patient's behalf, corrected after submission. Each change flushes and audits; the caller commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import Dialect, Integer, String, bindparam, exists, update
from sqlalchemy import select as sql_select
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from epro import instruments
from epro.audit import Actor, record
from epro.codes import SessionState
from epro.db import DriverConnection, DriverStatement, PerDialect, driver_of
from epro.instruments import Item
from epro.models import DraftAnswer, Patient, QuestionnaireSession, Response, UTCDateTime, Visit, utcnow
from epro.questionnaires import sessions
from epro.questionnaires.errors import (
    AlreadySubmitted,
    AnswerNotAChoice,
    AnswerUnchanged,
    AssessmentDateOutOfRange,
    UnansweredItems,
)
from epro.questionnaires.steps import Step, steps_for

#: How long before day 0 a transcribed assessment may date from (a screening visit on paper).
ASSESSMENT_LOOKBACK_DAYS = 60

ACTIVITY_EVERY_SECONDS = 60  # last_activity_at is kept to this precision: not one write per answer


def check_choice(item: Item, value: int) -> None:
    """The one rule every answer meets: it is one of the item's choices (AnswerNotAChoice otherwise)."""
    if value not in item.values:
        raise AnswerNotAChoice(item.code, value)


def drafts(db: Session, questionnaire: QuestionnaireSession) -> dict[tuple[str, str], DraftAnswer]:
    rows = db.exec(select(DraftAnswer).where(DraftAnswer.session_id == questionnaire.id)).all()
    return {(d.instrument_code, d.item_code): d for d in rows}


def first_unanswered(answered: Mapping[tuple[str, str], object], steps: list[Step]) -> Step | None:
    """The first step without a draft in `answered` (keyed by instrument and item code)."""
    return next((s for s in steps if (s.instrument.code, s.item.code) not in answered), None)


def save_draft(
    db: Session | DriverConnection,
    session_id: int,
    token: str,
    step: Step,
    value: int,
    language: str,
    last_activity: datetime | None = None,
) -> bool:
    """Keep the answer as in progress (so a locked tablet can resume); replaces an earlier draft.
    Returns False, storing nothing, when the session is no longer in progress under ``token`` (it was
    submitted, paused or locked since the caller read it).

    One statement: an upsert on the session's item that inserts only while the session is open under that
    token (``INSERT ... SELECT ... WHERE EXISTS ... ON CONFLICT``), so the caller may read the session in
    an earlier transaction and keep the write transaction short. The session's last activity is moved
    only when it is more than ACTIVITY_EVERY_SECONDS old (one conditional UPDATE, skipped when the caller
    read a ``last_activity`` more recent than that).

    ``db`` may be a DBAPI connection in a write transaction (db.driver_write): the tablet's answer POST
    writes on one, with no SQLAlchemy session or Core connection on its path."""
    check_choice(step.item, value)
    now = utcnow()
    driver = driver_of(db) if isinstance(db, Session) else db
    upsert, touch = _draft_statements(driver.dialect)
    saved = upsert.rows(
        driver.dbapi,
        {
            "session_id": session_id,
            "token": token,
            "instrument_code": step.instrument.code,
            "instrument_version": step.instrument.version,
            "item_code": step.item.code,
            "value": value,
            "language": language,
            "answered_at": now,
        },
    )
    if not saved:  # RETURNING: rowcount is -1 under psycopg for this statement
        return False
    stale = now - timedelta(seconds=ACTIVITY_EVERY_SECONDS)
    if last_activity is not None and last_activity >= stale:
        return True
    touch.rows(driver.dbapi, {"sid": session_id, "now": now, "stale": stale})
    return True


#: A draft's columns as the upsert's parameters (typed, so PostgreSQL is told each one's type).
_DRAFT_VALUES = (
    bindparam("session_id", type_=Integer()),
    bindparam("instrument_code", type_=String()),
    bindparam("instrument_version", type_=String()),
    bindparam("item_code", type_=String()),
    bindparam("value", type_=Integer()),
    bindparam("language", type_=String()),
    bindparam("answered_at", type_=UTCDateTime()),
)


def _build_draft_statements(dialect: Dialect) -> tuple[DriverStatement, DriverStatement]:
    """The guarded draft upsert and the conditional last-activity update, compiled for ``dialect`` (epro
    runs on SQLite and PostgreSQL, both with ON CONFLICT)."""
    statement: PostgresqlInsert | SqliteInsert
    if dialect.name == "postgresql":
        statement = postgresql_insert(DraftAnswer)
    elif dialect.name == "sqlite":
        statement = sqlite_insert(DraftAnswer)
    else:
        raise NotImplementedError(f"no draft upsert for {dialect.name}")
    open_under_token = exists().where(
        col(QuestionnaireSession.id) == bindparam("session_id", type_=Integer()),
        col(QuestionnaireSession.state) == SessionState.IN_PROGRESS,
        col(QuestionnaireSession.token) == bindparam("token", type_=String()),
    )
    values = sql_select(*_DRAFT_VALUES).where(open_under_token)
    statement = statement.from_select([value.key for value in _DRAFT_VALUES], values)
    upsert = statement.on_conflict_do_update(
        index_elements=["session_id", "instrument_code", "item_code"],
        set_={
            "value": statement.excluded.value,
            "language": statement.excluded.language,
            "answered_at": statement.excluded.answered_at,
        },
    ).returning(col(DraftAnswer.id))
    touch = (
        update(QuestionnaireSession)
        .where(
            col(QuestionnaireSession.id) == bindparam("sid"),
            col(QuestionnaireSession.last_activity_at) < bindparam("stale", type_=UTCDateTime()),
        )
        .values(last_activity_at=bindparam("now", type_=UTCDateTime()))
    )
    return DriverStatement(upsert, dialect), DriverStatement(touch, dialect)


_draft_statements = PerDialect(_build_draft_statements)


def submit(
    db: Session,
    questionnaire: QuestionnaireSession,
    visit: Visit,
    steps: list[Step],
    actor: Actor,
    today: date,
    assessment_date: date | None = None,
) -> list[Response]:
    """Turn every draft into a submitted answer, all or nothing (UnansweredItems if one is missing).

    The answers' assessment date is ``assessment_date`` when staff transcribe them, else the clinic date
    ``today`` (a tablet sitting); a visit without an actual date takes it too.

    Raises AlreadySubmitted when the session was already submitted (a double tap or a replayed POST):
    the unique constraint on (visit, item) stops a second answer even if two requests race.
    """
    db.refresh(questionnaire)
    if questionnaire.state != SessionState.IN_PROGRESS:
        raise AlreadySubmitted
    answered = drafts(db, questionnaire)
    if first_unanswered(answered, steps) is not None:
        raise UnansweredItems
    assert visit.id is not None and questionnaire.id is not None
    now = utcnow()
    assessed = assessment_date or today
    responses = []
    for step in steps:
        draft = answered[(step.instrument.code, step.item.code)]
        responses.append(
            Response(
                visit_id=visit.id,
                session_id=questionnaire.id,
                instrument_code=draft.instrument_code,
                instrument_version=draft.instrument_version,
                item_code=draft.item_code,
                value=draft.value,
                language=draft.language,
                entered_by=questionnaire.entered_by,
                answered_at=draft.answered_at,
                submitted_at=now,
                assessment_date=assessed,
            )
        )
    questionnaire.state, questionnaire.submitted_at, questionnaire.last_activity_at = (
        SessionState.SUBMITTED,
        now,
        now,
    )
    questionnaire.token = sessions.new_token()
    if visit.actual_date is None:
        visit.actual_date = assessed
    db.add_all([*responses, questionnaire, visit])
    try:
        db.flush()
    except IntegrityError as exc:
        raise AlreadySubmitted from exc
    for response in responses:
        record(
            db,
            actor,
            "response.submit",
            "response",
            response.id,
            field=f"{response.instrument_code}.{response.item_code}",
            new=response.value,
        )
    record(db, actor, "session.submit", "questionnaire_session", questionnaire.id, new=SessionState.SUBMITTED)
    for draft_row in db.exec(
        select(DraftAnswer).where(col(DraftAnswer.session_id) == questionnaire.id)
    ).all():
        db.delete(draft_row)
    return responses


def assessment_date_range(patient: Patient, today: date) -> tuple[date, date]:
    """The dates a nurse may give for a transcribed assessment: day 0 - 60 days ... today."""
    day0 = patient.procedure_date or today
    return day0 - timedelta(days=ASSESSMENT_LOOKBACK_DAYS), today


def enter_on_behalf(
    db: Session,
    actor: Actor,
    visit: Visit,
    values: Mapping[str, int],
    language: str,
    reason: str,
    today: date,
    assessment_date: date,
) -> list[Response]:
    """Answers a nurse enters for a patient who cannot use the tablet; flagged as staff-entered, all at once.

    ``assessment_date`` is when the patient actually answered (a paper form transcribed later, a phone
    call): it must lie within day 0 - 60 days ... today (AssessmentDateOutOfRange otherwise).
    An in-progress tablet session for the visit is cancelled first (its drafts stay as they were).
    The answers go through the tablet's own path: drafts in a staff-entered session, then submit.
    """
    patient = db.get(Patient, visit.patient_id)
    assert patient is not None and visit.id is not None and actor.id is not None
    earliest, latest = assessment_date_range(patient, today)
    if not earliest <= assessment_date <= latest:
        raise AssessmentDateOutOfRange(earliest, latest)
    steps = steps_for(visit)
    for step in steps:
        check_choice(step.item, values[step.item.code])
    live = sessions.live_session(db, visit)
    if live is not None:
        if live.state == SessionState.SUBMITTED:
            raise AlreadySubmitted
        sessions.cancel(db, actor, live, reason)
    questionnaire = QuestionnaireSession(
        token=sessions.new_token(),
        visit_id=visit.id,
        entered_by="staff",
        staff_reason=reason,
        language=language,
        started_by_id=actor.id,
    )
    db.add(questionnaire)
    db.flush()
    assert questionnaire.id is not None
    for step in steps:
        db.add(
            DraftAnswer(
                session_id=questionnaire.id,
                instrument_code=step.instrument.code,
                instrument_version=step.instrument.version,
                item_code=step.item.code,
                value=values[step.item.code],
                language=language,
            )
        )
    db.flush()
    record(
        db,
        actor,
        "session.staff_entry",
        "questionnaire_session",
        questionnaire.id,
        field="assessment_date",
        new=assessment_date.isoformat(),
        reason=reason,
    )
    return submit(db, questionnaire, visit, steps, actor, today, assessment_date)


def item_of(response: Response) -> Item:
    """The item a submitted answer answers, in the instrument version it was given in."""
    instrument = instruments.get(response.instrument_code, response.instrument_version)
    return next(i for i in instrument.items if i.code == response.item_code)


def correct_response(db: Session, actor: Actor, response: Response, new_value: int, reason: str) -> None:
    """Change a submitted answer; the original stays in the audit trail, the row is marked corrected.
    AnswerNotAChoice or AnswerUnchanged when the new value is not a choice or is the current one."""
    check_choice(item_of(response), new_value)
    if new_value == response.value:
        raise AnswerUnchanged
    record(
        db,
        actor,
        "response.correct",
        "response",
        response.id,
        field=f"{response.instrument_code}.{response.item_code}",
        old=response.value,
        new=new_value,
        reason=reason,
    )
    response.value, response.corrected_at, response.correction_reason = new_value, utcnow(), reason
    db.add(response)
    db.flush()
