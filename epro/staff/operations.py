"""Changes nurses and admins make. Each one audits old -> new (and why) and flushes; the view commits."""

from __future__ import annotations

import secrets
from datetime import date

from sqlmodel import Session

from epro.audit import Actor, record
from epro.kiosk import operations as kiosk_ops
from epro.kiosk.steps import steps_for
from epro.models import DraftAnswer, Patient, QuestionnaireSession, Response, StaffUser, Visit, utcnow
from epro.passwords import hash_password


class NotAllowedNow(Exception):
    """The change does not fit the record's current state (e.g. a completed visit marked missed)."""


def update_patient(
    db: Session, actor: Actor, patient: Patient, changes: dict[str, object], reason: str
) -> int:
    """Apply changed fields only; returns how many changed."""
    changed = 0
    for field, new in changes.items():
        old = getattr(patient, field)
        if old != new:
            record(
                db,
                actor,
                "patient.update",
                "patient",
                patient.id,
                field=field,
                old=old,
                new=new,
                reason=reason,
            )
            setattr(patient, field, new)
            changed += 1
    db.add(patient)
    db.flush()
    return changed


def reschedule(db: Session, actor: Actor, visit: Visit, new_date: date, reason: str | None) -> None:
    """Inside the window a reason is optional; outside it one is required and the visit is flagged."""
    reason = reason or None
    outside = not (visit.window_start <= new_date <= visit.window_end)
    if outside and not reason:
        raise ValueError("reason required outside the window")
    if _completed(db, visit):
        raise NotAllowedNow
    record(
        db,
        actor,
        "visit.reschedule",
        "visit",
        visit.id,
        field="scheduled_date",
        old=visit.appointment_date.isoformat(),
        new=new_date.isoformat(),
        reason=reason,
    )
    visit.scheduled_date = new_date
    visit.reschedule_reason = reason
    db.add(visit)
    db.flush()


def mark_missed(db: Session, actor: Actor, visit: Visit, reason: str) -> None:
    if _completed(db, visit) or visit.missed_at is not None:
        raise NotAllowedNow
    visit.missed_at, visit.missed_reason = utcnow(), reason
    db.add(visit)
    db.flush()
    record(
        db, actor, "visit.missed", "visit", visit.id, field="status", old=None, new="missed", reason=reason
    )


def undo_missed(db: Session, actor: Actor, visit: Visit, reason: str) -> None:
    if visit.missed_at is None:
        raise NotAllowedNow
    record(
        db, actor, "visit.unmissed", "visit", visit.id, field="status", old="missed", new=None, reason=reason
    )
    visit.missed_at, visit.missed_reason = None, None
    db.add(visit)
    db.flush()


def enter_on_behalf(
    db: Session, actor: Actor, visit: Visit, values: dict[str, int], language: str, reason: str, today: date
) -> list[Response]:
    """Answers a nurse enters for a patient who cannot use the tablet; flagged as staff-entered, all at once.

    An in-progress tablet session for the visit is cancelled first (its drafts stay as they were).
    """
    live = kiosk_ops.live_session(db, visit)
    if live is not None:
        if live.state == "submitted":
            raise kiosk_ops.SessionUnavailable
        live.state = "cancelled"
        db.add(live)
        db.flush()
        record(
            db,
            actor,
            "session.cancel",
            "questionnaire_session",
            live.id,
            old="in_progress",
            new="cancelled",
            reason=reason,
        )
    questionnaire = QuestionnaireSession(
        token=secrets.token_urlsafe(24),
        visit_id=visit.id,
        entered_by="staff",
        staff_reason=reason,
        language=language,  # type: ignore[arg-type]
        started_by_id=actor.id,  # type: ignore[arg-type]
    )
    db.add(questionnaire)
    db.flush()
    steps = steps_for(visit)
    for step in steps:
        value = values[step.item.code]
        if value not in step.item.values:
            raise ValueError(step.item.code)
        db.add(
            DraftAnswer(
                session_id=questionnaire.id,
                instrument_code=step.instrument.code,  # type: ignore[arg-type]
                instrument_version=step.instrument.version,
                item_code=step.item.code,
                value=value,
                language=language,
            )
        )
    db.flush()
    record(db, actor, "session.staff_entry", "questionnaire_session", questionnaire.id, reason=reason)
    return kiosk_ops.submit(db, questionnaire, visit, steps, actor, today)


def correct_response(
    db: Session, actor: Actor, response: Response, new_value: int, reason: str, allowed: frozenset[int]
) -> None:
    """Change a submitted answer; the original stays in the audit trail, the row is marked corrected."""
    if new_value not in allowed:
        raise ValueError(new_value)
    if new_value == response.value:
        raise NotAllowedNow
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


def update_staff_field(db: Session, actor: Actor, user: StaffUser, field: str, new: object) -> None:
    """Change one field of a staff account (role, active, preferred language), audited old -> new."""
    old = getattr(user, field)
    if old != new:
        record(db, actor, "staff.update", "staff_user", user.id, field=field, old=old, new=new)
        setattr(user, field, new)
        db.add(user)
        db.flush()


def reset_password(db: Session, actor: Actor, user: StaffUser, password: str) -> None:
    record(db, actor, "staff.password_reset", "staff_user", user.id)
    user.password_hash = hash_password(password)
    db.add(user)
    db.flush()


def _completed(db: Session, visit: Visit) -> bool:
    live = kiosk_ops.live_session(db, visit)
    return live is not None and live.state == "submitted"
