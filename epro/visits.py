"""Reading visits with their derived status: shared by the staff pages, reports and exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from epro.models import Patient, QuestionnaireSession, Visit
from epro.schedule import VisitStatus, visit_status


@dataclass(frozen=True, slots=True)
class VisitRow:
    visit: Visit
    patient: Patient
    status: VisitStatus
    #: The live (in progress or submitted) questionnaire session, if any.
    session: QuestionnaireSession | None


def status_of(visit: Visit, session: QuestionnaireSession | None, today: date) -> VisitStatus:
    return visit_status(
        today=today,
        window_start=visit.window_start,
        window_end=visit.window_end,
        completed=session is not None and session.state == "submitted",
        missed=visit.missed_at is not None,
    )


def visit_rows(
    db: Session,
    today: date,
    *,
    patient_id: int | None = None,
    window_from: date | None = None,
    window_to: date | None = None,
    window_closed_before: date | None = None,
    open_only: bool = False,
    limit: int | None = None,
) -> list[VisitRow]:
    """Visits with their status: one patient's, or those whose window overlaps a date range, or closed
    before a date. open_only keeps visits without submitted answers that are not marked missed."""
    query = (
        select(Visit, Patient, QuestionnaireSession)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .join(
            QuestionnaireSession,
            (col(QuestionnaireSession.visit_id) == Visit.id) & (QuestionnaireSession.state != "cancelled"),
            isouter=True,
        )
        .order_by(col(Visit.target_date), col(Patient.study_id), col(Visit.number))
    )
    if patient_id is not None:
        query = query.where(Visit.patient_id == patient_id)
    if window_to is not None:
        query = query.where(Visit.window_start <= window_to)
    if window_from is not None:
        query = query.where(Visit.window_end >= window_from)
    if window_closed_before is not None:
        query = query.where(Visit.window_end < window_closed_before)
    if open_only:
        query = query.where(
            col(Visit.missed_at).is_(None),
            or_(col(QuestionnaireSession.id).is_(None), QuestionnaireSession.state == "in_progress"),
        )
    if limit is not None:
        query = query.limit(limit)
    return [
        VisitRow(visit, patient, status_of(visit, session, today), session)
        for visit, patient, session in db.exec(query).all()
    ]
