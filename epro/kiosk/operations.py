"""Changes to questionnaire sessions. Each flushes and audits; the caller commits once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Executable, bindparam, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from epro.audit import Actor, record
from epro.kiosk.steps import Step
from epro.models import DraftAnswer, QuestionnaireSession, Response, UTCDateTime, Visit, utcnow


class SessionUnavailable(Exception):
    """The visit's questionnaires are already submitted, or the session is no longer open."""


def live_session(db: Session, visit: Visit) -> QuestionnaireSession | None:
    return db.exec(
        select(QuestionnaireSession).where(
            QuestionnaireSession.visit_id == visit.id, QuestionnaireSession.state != "cancelled"
        )
    ).first()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def rotate_token(db: Session, questionnaire: QuestionnaireSession) -> None:
    """Give the session a new token: every copy of a tablet cookie or form made before now reaches nothing.
    Done at every pause, lock, resume and submit."""
    questionnaire.token = new_token()
    db.add(questionnaire)
    db.flush()


def open_tablet_session(db: Session, visit: Visit, actor: Actor) -> QuestionnaireSession:
    """Resume the visit's session in progress (under a new token), or start one."""
    existing = live_session(db, visit)
    if existing is not None:
        if existing.state != "in_progress" or existing.entered_by != "patient":
            raise SessionUnavailable
        existing.token = new_token()
        existing.last_activity_at = utcnow()
        db.add(existing)
        record(db, actor, "session.resume", "questionnaire_session", existing.id)
        return existing
    questionnaire = QuestionnaireSession(
        token=new_token(),
        visit_id=visit.id,
        started_by_id=actor.id,  # type: ignore[arg-type]
    )
    db.add(questionnaire)
    db.flush()
    record(db, actor, "session.start", "questionnaire_session", questionnaire.id, new=f"visit {visit.id}")
    return questionnaire


def drafts(db: Session, questionnaire: QuestionnaireSession) -> dict[tuple[str, str], DraftAnswer]:
    rows = db.exec(select(DraftAnswer).where(DraftAnswer.session_id == questionnaire.id)).all()
    return {(d.instrument_code, d.item_code): d for d in rows}


ACTIVITY_EVERY_SECONDS = 60  # last_activity_at is kept to this precision: not one write per answer


def save_draft(db: Session, session_id: int, step: Step, value: int, language: str) -> None:
    """Keep the answer as in progress (so a locked tablet can resume); replaces an earlier draft.

    One statement (an upsert on the session's item), and the session's last activity is moved only when
    it is more than ACTIVITY_EVERY_SECONDS old (one conditional UPDATE that mostly changes no row)."""
    if value not in step.item.values:
        raise ValueError(value)
    now = utcnow()
    statements = _draft_statements(db.get_bind().dialect.name)
    if statements is None:
        _save_draft_portably(db, session_id, step, value, language, now)
        return
    upsert, touch = statements
    connection = db.connection()
    connection.execute(
        upsert,
        {
            "session_id": session_id,
            "instrument_code": step.instrument.code,
            "instrument_version": step.instrument.version,
            "item_code": step.item.code,
            "value": value,
            "language": language,
            "answered_at": now,
        },
    )
    connection.execute(
        touch, {"sid": session_id, "now": now, "stale": now - timedelta(seconds=ACTIVITY_EVERY_SECONDS)}
    )


@cache
def _draft_statements(dialect: str) -> tuple[Executable, Executable] | None:
    """The draft upsert and the conditional last-activity update, built once per dialect (None: a
    database without ON CONFLICT)."""
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}.get(dialect)
    if insert is None:
        return None
    statement = insert(DraftAnswer)
    upsert = statement.on_conflict_do_update(
        index_elements=["session_id", "instrument_code", "item_code"],
        set_={
            "value": statement.excluded.value,
            "language": statement.excluded.language,
            "answered_at": statement.excluded.answered_at,
        },
    )
    touch = (
        update(QuestionnaireSession)
        .where(
            col(QuestionnaireSession.id) == bindparam("sid"),
            col(QuestionnaireSession.last_activity_at) < bindparam("stale", type_=UTCDateTime()),
        )
        .values(last_activity_at=bindparam("now", type_=UTCDateTime()))
    )
    return upsert, touch


def _save_draft_portably(
    db: Session, session_id: int, step: Step, value: int, language: str, now: datetime
) -> None:
    draft = db.exec(
        select(DraftAnswer).where(
            DraftAnswer.session_id == session_id,
            DraftAnswer.instrument_code == step.instrument.code,
            DraftAnswer.item_code == step.item.code,
        )
    ).first()
    if draft is None:
        draft = DraftAnswer(
            session_id=session_id,
            instrument_code=step.instrument.code,
            instrument_version=step.instrument.version,
            item_code=step.item.code,
            value=value,
            language=language,
        )
    else:
        draft.value, draft.language, draft.answered_at = value, language, now
    db.add(draft)
    db.flush()


def set_language(db: Session, questionnaire: QuestionnaireSession, language: str) -> None:
    questionnaire.language = language
    questionnaire.last_activity_at = utcnow()
    db.add(questionnaire)
    db.flush()


def first_unanswered(answered: Mapping[tuple[str, str], object], steps: list[Step]) -> Step | None:
    """The first step without a draft in `answered` (keyed by instrument and item code)."""
    return next((s for s in steps if (s.instrument.code, s.item.code) not in answered), None)


def submit(
    db: Session,
    questionnaire: QuestionnaireSession,
    visit: Visit,
    steps: list[Step],
    actor: Actor,
    today: date,
    assessment_date: date | None = None,
) -> list[Response]:
    """Turn every draft into a submitted answer, all or nothing.

    The answers' assessment date is ``assessment_date`` when staff transcribe them, else the clinic date
    ``today`` (a tablet sitting); a visit without an actual date takes it too.

    Raises SessionUnavailable when the session was already submitted (a double tap or a replayed POST):
    the unique constraint on (visit, item) stops a second answer even if two requests race.
    """
    db.refresh(questionnaire)
    if questionnaire.state != "in_progress":
        raise SessionUnavailable
    answered = drafts(db, questionnaire)
    if any((s.instrument.code, s.item.code) not in answered for s in steps):
        raise ValueError("unanswered items")
    now = utcnow()
    assessed = assessment_date or today
    responses = []
    for step in steps:
        draft = answered[(step.instrument.code, step.item.code)]
        responses.append(
            Response(
                visit_id=visit.id,  # type: ignore[arg-type]
                session_id=questionnaire.id,  # type: ignore[arg-type]
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
    questionnaire.state, questionnaire.submitted_at, questionnaire.last_activity_at = "submitted", now, now
    questionnaire.token = new_token()
    if visit.actual_date is None:
        visit.actual_date = assessed
    db.add_all([*responses, questionnaire, visit])
    try:
        db.flush()
    except IntegrityError as exc:
        raise SessionUnavailable from exc
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
    record(db, actor, "session.submit", "questionnaire_session", questionnaire.id, new="submitted")
    for draft_row in db.exec(
        select(DraftAnswer).where(col(DraftAnswer.session_id) == questionnaire.id)
    ).all():
        db.delete(draft_row)
    return responses
