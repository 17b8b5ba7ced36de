"""Signing a patient's data (21 CFR 11.100, 11.200, 11.300): re-identification, lockout, the audited row.

The signer gives the password again at every signature, and the user name too at the first signature of a
sign-in session. Wrong attempts are audited ("signature.failed"); after MAX failures within the lock window
signing is refused for that window and the lock is audited too ("signature.locked"), so a monitor reading
the trail sees every attempt. Counts come from the audit trail, so every app server sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from epro.audit import Actor, record
from epro.codes import SIGNATURE_MEANINGS
from epro.models import AuditEvent, Patient, Signature, StaffUser
from epro.passwords import verify_password
from epro.signatures.content import FORMAT, content_of
from epro.signatures.state import SIGN_ACTION

FAILED_ACTION = "signature.failed"
LOCKED_ACTION = "signature.locked"
SIGNER_ROLES = ("investigator",)


class SigningRefused(Exception):
    """Base of the reasons a signature is not made; views map each to a translated message."""


class NotASigner(SigningRefused):
    """Only investigators sign."""


class NoPrintedName(SigningRefused):
    """The account has no printed (full) name, which every signature must show."""


class NotSignable(SigningRefused):
    """The patient is not enrolled: there is no data to sign."""


class WrongCredentials(SigningRefused):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(attempts_left)
        self.attempts_left = attempts_left


class SigningLocked(SigningRefused):
    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


@dataclass(frozen=True, slots=True)
class LockPolicy:
    max_failures: int = 3
    window: timedelta = timedelta(minutes=15)


def _actor(user: StaffUser) -> Actor:
    return Actor("staff", user.id, user.username)


def _last(db: Session, user_id: int, action: str) -> AuditEvent | None:
    return db.exec(
        select(AuditEvent)
        .where(AuditEvent.actor_type == "staff", AuditEvent.actor_id == user_id, AuditEvent.action == action)
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()


def locked_until(db: Session, user_id: int, now: datetime, policy: LockPolicy) -> datetime | None:
    lock = _last(db, user_id, LOCKED_ACTION)
    if lock is not None and lock.at + policy.window > now:
        return lock.at + policy.window
    return None


def recent_failures(db: Session, user_id: int, now: datetime, policy: LockPolicy) -> int:
    """Failed attempts inside the window since the last signature or lock (either resets the count)."""
    since = 0
    for action in (SIGN_ACTION, LOCKED_ACTION):
        event = _last(db, user_id, action)
        if event is not None and event.id is not None:
            since = max(since, event.id)
    return db.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.actor_type == "staff",
            AuditEvent.actor_id == user_id,
            AuditEvent.action == FAILED_ACTION,
            col(AuditEvent.id) > since,
            AuditEvent.at > now - policy.window,
        )
    ).one()


def check_signer(db: Session, user: StaffUser, patient: Patient, now: datetime, policy: LockPolicy) -> None:
    """Refusals that need no credentials: role, printed name, enrolment, an active lock."""
    if user.role not in SIGNER_ROLES:
        raise NotASigner
    if not (user.full_name or "").strip():
        raise NoPrintedName
    if patient.procedure_date is None:
        raise NotSignable
    until = locked_until(db, user.id or 0, now, policy)
    if until is not None:
        raise SigningLocked(until)


def fail(db: Session, user: StaffUser, patient: Patient, now: datetime, policy: LockPolicy) -> SigningRefused:
    """Record a failed attempt (and the lock it may bring); returns the refusal to raise after commit."""
    actor = _actor(user)
    record(db, actor, FAILED_ACTION, "patient", patient.id, reason="wrong user name or password")
    failures = recent_failures(db, user.id or 0, now, policy)
    if failures >= policy.max_failures:
        record(
            db,
            actor,
            LOCKED_ACTION,
            "staff_user",
            user.id,
            new=f"{failures} failed signing attempts",
            reason=f"signing locked for {int(policy.window.total_seconds() // 60)} minutes",
        )
        return SigningLocked(now + policy.window)
    return WrongCredentials(policy.max_failures - failures)


def credentials_match(expected_name: str, password_hash: str, username: str | None, password: str) -> bool:
    """The password always; the user name too when one is asked for (None: not asked)."""
    name_ok = username is None or username == expected_name
    password_ok = verify_password(password_hash, password)  # always run: same time either way
    return name_ok and password_ok


def sign(
    db: Session, user: StaffUser, patient: Patient, meaning: str, *, now: datetime, zone: ZoneInfo
) -> Signature:
    """Make the signature over the patient's data as it stands in this transaction (credentials checked)."""
    if meaning not in SIGNATURE_MEANINGS:
        raise ValueError(f"unknown meaning {meaning!r}")
    assert patient.id is not None and user.id is not None and user.full_name
    content = content_of(db, patient.id)
    local = now.astimezone(zone)
    signature = Signature(
        patient_id=patient.id,
        signer_id=user.id,
        signer_name=user.full_name.strip(),
        signer_role=user.role,
        meaning=meaning,
        signed_at=now,
        signed_at_clinic=local.isoformat(timespec="seconds"),
        clinic_zone=zone.key,
        content_format=FORMAT,
        content_hash=content.sha256,
    )
    db.add(signature)
    db.flush()
    record(
        db,
        _actor(user),
        SIGN_ACTION,
        "signature",
        signature.id,
        field=meaning,
        new=f"patient={patient.id}; sha256={content.sha256}; name={signature.signer_name}",
    )
    return signature
