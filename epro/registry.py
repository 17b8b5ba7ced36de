"""Registering patients and staff accounts (audited; the caller commits)."""

from __future__ import annotations

from sqlmodel import Session

from epro.audit import Actor, record
from epro.models import Patient, StaffUser
from epro.passwords import hash_password


def register_patient(
    db: Session, actor: Actor, *, study_id: str, birth_year: int, sex: str, preferred_language: str
) -> Patient:
    patient = Patient(
        study_id=study_id, birth_year=birth_year, sex=sex, preferred_language=preferred_language
    )
    db.add(patient)
    db.flush()
    for field in ("study_id", "birth_year", "sex", "preferred_language"):
        record(db, actor, "patient.create", "patient", patient.id, field=field, new=getattr(patient, field))
    return patient


def create_staff_user(
    db: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    preferred_language: str = "ko",
    full_name: str | None = None,
) -> StaffUser:
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        preferred_language=preferred_language,
        full_name=full_name or None,
    )
    db.add(user)
    db.flush()
    record(db, actor, "staff.create", "staff_user", user.id, field="role", new=role)
    if user.full_name:
        record(db, actor, "staff.create", "staff_user", user.id, field="full_name", new=user.full_name)
    return user
