"""Changes nurses and admins make to patients, visits and staff accounts (answers: epro.questionnaires).
Each one audits old -> new (and why) and flushes; the view commits."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from epro.audit import Actor, record
from epro.models import Patient, StaffUser, Visit, utcnow
from epro.passwords import hash_password
from epro.questionnaires.errors import AlreadySubmitted
from epro.questionnaires.sessions import is_submitted


class AlreadyMissed(Exception):
    """The visit is already marked missed."""


class ReasonRequired(Exception):
    """This change needs a reason (a date outside the window, a changed weight)."""


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
    """Inside the window a reason is optional; outside it one is required and the visit is flagged.
    AlreadySubmitted when the visit's answers are in."""
    reason = reason or None
    outside = not (visit.window_start <= new_date <= visit.window_end)
    if outside and not reason:
        raise ReasonRequired
    if is_submitted(db, visit):
        raise AlreadySubmitted
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
    """AlreadySubmitted when the visit's answers are in, AlreadyMissed when it is marked already."""
    if is_submitted(db, visit):
        raise AlreadySubmitted
    if visit.missed_at is not None:
        raise AlreadyMissed
    visit.missed_at, visit.missed_reason = utcnow(), reason
    db.add(visit)
    db.flush()
    record(
        db, actor, "visit.missed", "visit", visit.id, field="status", old=None, new="missed", reason=reason
    )


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
