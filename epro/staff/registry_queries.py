"""The patient list: search, status and next-visit filters, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_
from sqlmodel import Session, col, select

from epro.codes import PatientStatus, SessionState
from epro.models import Patient, QuestionnaireSession, Visit

PAGE_SIZE = 50


@dataclass(frozen=True)
class PatientListRow:
    patient: Patient
    next_visit: date | None
    overdue: int

    @property
    def status(self) -> PatientStatus:
        if self.patient.withdrawn_on is not None:
            return PatientStatus.WITHDRAWN
        if self.patient.procedure_date is None:
            return PatientStatus.NOT_ENROLLED
        if self.overdue:
            return PatientStatus.OVERDUE
        return PatientStatus.ACTIVE if self.next_visit else PatientStatus.FINISHED


def _open_visit() -> ColumnElement[bool]:
    """A visit that still waits for data: not missed, no submitted answers."""
    submitted = exists().where(
        col(QuestionnaireSession.visit_id) == Visit.id,
        col(QuestionnaireSession.state) == SessionState.SUBMITTED,
    )
    return and_(col(Visit.patient_id) == Patient.id, col(Visit.missed_at).is_(None), not_(submitted))


def patient_page(
    db: Session,
    today: date,
    *,
    search: str = "",
    status: PatientStatus | None = None,
    next_within_days: int | None = None,
    page: int = 1,
) -> tuple[list[PatientListRow], int]:
    """One page of patients and the total count matching the filters."""
    appointment = func.coalesce(Visit.scheduled_date, Visit.target_date)
    next_visit = (
        select(func.min(appointment)).where(_open_visit(), Visit.window_end >= today).scalar_subquery()
    )
    overdue = select(func.count()).where(_open_visit(), Visit.window_end < today).scalar_subquery()
    query = select(Patient, next_visit.label("next_visit"), overdue.label("overdue"))
    if search:
        query = query.where(col(Patient.study_id).contains(search.strip().upper(), autoescape=True))
    staying = col(Patient.withdrawn_on).is_(None)
    if status == PatientStatus.WITHDRAWN:
        query = query.where(col(Patient.withdrawn_on).is_not(None))
    elif status is not None:
        query = query.where(staying)
    if status == PatientStatus.NOT_ENROLLED:
        query = query.where(col(Patient.procedure_date).is_(None))
    elif status == PatientStatus.OVERDUE:
        query = query.where(overdue > 0)
    elif status == PatientStatus.ACTIVE:
        query = query.where(col(Patient.procedure_date).is_not(None), overdue == 0, next_visit.is_not(None))
    elif status == PatientStatus.FINISHED:
        query = query.where(col(Patient.procedure_date).is_not(None), overdue == 0, next_visit.is_(None))
    if next_within_days is not None:
        query = query.where(or_(next_visit <= today + timedelta(days=next_within_days)))
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.exec(
        query.order_by(col(Patient.study_id)).offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return [PatientListRow(patient, nxt, count) for patient, nxt, count in rows], total
