"""Reading visits with their derived status: shared by the staff pages, reports and exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from epro.codes import SessionState
from epro.models import Patient, QuestionnaireSession, Visit
from epro.schedule import VisitStatus, visit_status

#: When the visit is planned: the rescheduled date, else the protocol's target date (as in Visit).
APPOINTMENT = func.coalesce(Visit.scheduled_date, Visit.target_date)


@dataclass(frozen=True, slots=True)
class VisitRow:
    visit: Visit
    patient: Patient
    status: VisitStatus
    #: The live (in progress or submitted) questionnaire session, if any.
    session: QuestionnaireSession | None


@dataclass(frozen=True, slots=True)
class VisitFilter:
    """Which visits: one patient's, by window or appointment dates, and only open ones (no submitted
    answers, not marked missed). Every bound is on an indexed date, so a day's list stays cheap."""

    patient_id: int | None = None
    window_from: date | None = None
    window_to: date | None = None
    window_closed_before: date | None = None
    #: A lower bound on window_start that changes nothing (windows are never wider than the widest protocol
    #: window) but lets the index stop early, so a day's list does not scan every later visit of the study.
    window_start_from: date | None = None
    appointment_from: date | None = None
    appointment_after: date | None = None
    appointment_before: date | None = None
    appointment_until: date | None = None
    #: Only visits a nurse rescheduled (an appointment that need not lie in the window).
    rescheduled_only: bool = False
    open_only: bool = False
    #: Leave out patients withdrawn from the study (the clinic list: their open visits are cancelled).
    active_patients_only: bool = False


def status_of(
    visit: Visit, session: QuestionnaireSession | None, today: date, withdrawn_on: date | None = None
) -> VisitStatus:
    return visit_status(
        today=today,
        window_start=visit.window_start,
        window_end=visit.window_end,
        completed=session is not None and session.state == SessionState.SUBMITTED,
        missed=visit.missed_at is not None,
        withdrawn_on=withdrawn_on,
    )


def _query(which: VisitFilter) -> Select[Visit, Patient, QuestionnaireSession]:
    query = (
        select(Visit, Patient, QuestionnaireSession)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .join(
            QuestionnaireSession,
            (col(QuestionnaireSession.visit_id) == Visit.id)
            & (QuestionnaireSession.state != SessionState.CANCELLED),
            isouter=True,
        )
    )
    if which.patient_id is not None:
        query = query.where(Visit.patient_id == which.patient_id)
    if which.window_to is not None:
        query = query.where(Visit.window_start <= which.window_to)
    if which.window_from is not None:
        query = query.where(Visit.window_end >= which.window_from)
    if which.window_start_from is not None:
        query = query.where(Visit.window_start >= which.window_start_from)
    if which.window_closed_before is not None:
        query = query.where(Visit.window_end < which.window_closed_before)
    if which.appointment_from is not None:
        query = query.where(which.appointment_from <= APPOINTMENT)
    if which.appointment_after is not None:
        query = query.where(which.appointment_after < APPOINTMENT)
    if which.appointment_before is not None:
        query = query.where(which.appointment_before > APPOINTMENT)
    if which.appointment_until is not None:
        query = query.where(which.appointment_until >= APPOINTMENT)
    if which.rescheduled_only:
        query = query.where(col(Visit.scheduled_date).is_not(None))
    if which.active_patients_only:
        query = query.where(col(Patient.withdrawn_on).is_(None))
    if which.open_only:
        query = query.where(
            col(Visit.missed_at).is_(None),
            or_(
                col(QuestionnaireSession.id).is_(None),
                col(QuestionnaireSession.state) == SessionState.IN_PROGRESS,
            ),
        )
    return query


def visit_rows(
    db: Session,
    today: date,
    which: VisitFilter | None = None,
    *,
    patient_id: int | None = None,
    limit: int | None = None,
    newest_window_first: bool = False,
) -> list[VisitRow]:
    """Visits with their derived status, by appointment date (or newest closed window first)."""
    if which is None:
        which = VisitFilter(patient_id=patient_id)
    order = (
        (col(Visit.window_end).desc(), col(Patient.study_id))
        if newest_window_first
        else (APPOINTMENT, col(Patient.study_id), col(Visit.number))
    )
    query = _query(which).order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return [
        VisitRow(visit, patient, status_of(visit, session, today, patient.withdrawn_on), session)
        for visit, patient, session in db.exec(query).all()
    ]
