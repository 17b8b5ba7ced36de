"""A visit's questionnaire session: started or resumed for the tablet, paused, locked when idle.
Each change flushes and audits; the caller commits once."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from epro.audit import Actor, record
from epro.codes import SessionState
from epro.models import QuestionnaireSession, Visit, utcnow
from epro.questionnaires.errors import AlreadySubmitted

#: Who the tablet acts as while a patient holds it.
PATIENT = Actor("patient", None, None)


def live_session(db: Session, visit: Visit) -> QuestionnaireSession | None:
    """The visit's session that is not cancelled (at most one), if any."""
    return db.exec(
        select(QuestionnaireSession).where(
            QuestionnaireSession.visit_id == visit.id, QuestionnaireSession.state != SessionState.CANCELLED
        )
    ).first()


def state_of(db: Session, session_id: int) -> str | None:
    """A session's state, read afresh (None: no such session)."""
    questionnaire = db.get(QuestionnaireSession, session_id, populate_existing=True)
    return questionnaire.state if questionnaire else None


def is_submitted(db: Session, visit: Visit) -> bool:
    live = live_session(db, visit)
    return live is not None and live.state == SessionState.SUBMITTED


def new_token() -> str:
    return secrets.token_urlsafe(24)


def rotate_token(db: Session, questionnaire: QuestionnaireSession) -> None:
    """Give the session a new token: every copy of a tablet cookie or form made before now reaches nothing.
    Done at every pause, lock, resume and submit."""
    questionnaire.token = new_token()
    db.add(questionnaire)
    db.flush()


def open_tablet_session(db: Session, visit: Visit, actor: Actor) -> QuestionnaireSession:
    """Resume the visit's session in progress (under a new token), or start one.
    AlreadySubmitted when the visit's answers are in."""
    existing = live_session(db, visit)
    if existing is not None:
        if existing.state != SessionState.IN_PROGRESS or existing.entered_by != "patient":
            raise AlreadySubmitted
        existing.token = new_token()
        existing.last_activity_at = utcnow()
        db.add(existing)
        record(db, actor, "session.resume", "questionnaire_session", existing.id)
        return existing
    assert visit.id is not None and actor.id is not None
    questionnaire = QuestionnaireSession(token=new_token(), visit_id=visit.id, started_by_id=actor.id)
    db.add(questionnaire)
    db.flush()
    record(db, actor, "session.start", "questionnaire_session", questionnaire.id, new=f"visit {visit.id}")
    return questionnaire


def set_language(db: Session, questionnaire: QuestionnaireSession, language: str) -> None:
    questionnaire.language = language
    questionnaire.last_activity_at = utcnow()
    db.add(questionnaire)
    db.flush()


def pause(db: Session, session_id: int, token: str) -> None:
    """The tablet leaves patient mode (the patient paused, or the locked screen was reached): the session
    in progress, if the cookie's token is still its token, gets a new one, so no copy of it works again."""
    questionnaire = db.get(QuestionnaireSession, session_id)
    if (
        questionnaire is not None
        and questionnaire.state == SessionState.IN_PROGRESS
        and questionnaire.token == token
    ):
        rotate_token(db, questionnaire)
        record(db, PATIENT, "session.pause", "questionnaire_session", questionnaire.id)


def lock_idle(db: Session, session_id: int, token: str) -> None:
    """A session in progress left idle on the tablet: its token rotates (if the cookie's is still its
    token) and the lock is audited."""
    questionnaire = db.get(QuestionnaireSession, session_id)
    if questionnaire is not None and questionnaire.token == token:
        rotate_token(db, questionnaire)
    record(db, PATIENT, "session.idle_lock", "questionnaire_session", session_id)


def cancel(db: Session, actor: Actor, questionnaire: QuestionnaireSession, reason: str) -> None:
    """Set aside a session in progress (its drafts stay as they were), e.g. for a staff entry."""
    old = questionnaire.state
    questionnaire.state = SessionState.CANCELLED
    db.add(questionnaire)
    db.flush()
    record(
        db,
        actor,
        "session.cancel",
        "questionnaire_session",
        questionnaire.id,
        old=old,
        new=SessionState.CANCELLED,
        reason=reason,
    )
