"""Story helpers for the report tests: answer a visit (on the tablet or by staff), correct an answer,
mark a visit missed. Rows are written directly, as the staff screens for these are built elsewhere."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from epro import instruments
from epro.audit import Actor, record
from epro.models import ClinicalValue, Patient, QuestionnaireSession, Response, Visit
from tests.conftest import World

SEOUL = ZoneInfo("Asia/Seoul")
NURSE = Actor("staff", None, "nurse1")


def answer(
    world: World,
    patient: Patient,
    code: str,
    values: dict[str, int],
    *,
    shift_days: int = 0,
    weight: str | None = None,
    staff_reason: str | None = None,
) -> None:
    """Submit the given answers (measure code -> value) at the visit, ``shift_days`` after its target date."""
    nurse_id = _nurse_id(world)
    with world.session() as s:
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        visit.actual_date = visit.target_date + timedelta(days=shift_days)
        moment = datetime.combine(visit.actual_date, time(10, 0), SEOUL).astimezone(UTC)
        entered_by = "patient" if staff_reason is None else "staff"
        sitting = QuestionnaireSession(
            token=secrets.token_urlsafe(16),
            visit_id=visit.id,  # type: ignore[arg-type]
            state="submitted",
            entered_by=entered_by,
            staff_reason=staff_reason,
            language="ko",
            started_by_id=nurse_id,
            started_at=moment,
            last_activity_at=moment,
            submitted_at=moment,
        )
        s.add_all([visit, sitting])
        s.flush()
        if weight is not None:
            s.add(
                ClinicalValue(
                    visit_id=visit.id,  # type: ignore[arg-type]
                    measure_code="WEIGHT",
                    measure_set="liver-1.0",
                    value_number=Decimal(weight),
                    unit="kg",
                    sample_date=visit.actual_date,
                    entered_by_id=nurse_id,
                )
            )
        for measure, value in values.items():
            s.add(
                Response(
                    visit_id=visit.id,  # type: ignore[arg-type]
                    session_id=sitting.id,  # type: ignore[arg-type]
                    instrument_code=measure,
                    instrument_version=instruments.current(measure).version,
                    item_code=instruments.current(measure).items[0].code,
                    value=value,
                    language="ko",
                    entered_by=entered_by,
                    answered_at=moment,
                    submitted_at=moment,
                    assessment_date=visit.actual_date or moment.date(),
                )
            )
        s.commit()


def correct(world: World, patient: Patient, code: str, measure: str, value: int, reason: str) -> datetime:
    """A nurse corrects one submitted answer; the original value goes to the audit trail."""
    at = datetime.now(UTC)
    with world.session() as s:
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        response = s.exec(
            select(Response).where(Response.visit_id == visit.id, Response.instrument_code == measure)
        ).one()
        old = response.value
        response.value, response.corrected_at, response.correction_reason = value, at, reason
        s.add(response)
        record(
            s,
            NURSE,
            "response.correct",
            "response",
            response.id,
            field=f"{measure}.{response.item_code}",
            old=old,
            new=value,
            reason=reason,
        )
        s.commit()
    return at


def miss(world: World, patient: Patient, code: str, reason: str) -> None:
    with world.session() as s:
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        visit.missed_reason, visit.missed_at = reason, datetime.combine(visit.window_end, time(17), SEOUL)
        s.add(visit)
        s.commit()


def _nurse_id(world: World) -> int:
    from epro.models import StaffUser

    with world.session() as s:
        user = s.exec(select(StaffUser).where(StaffUser.username == "nurse1")).first()
    return user.id if user is not None else world.staff("nurse1")  # type: ignore[return-value]


def day0_of(world: World, patient: Patient) -> date:
    with world.session() as s:
        return s.get(Patient, patient.id).procedure_date  # type: ignore[union-attr,return-value]


def eventful_history(world: World) -> Patient:
    """Day 0 was 100 days ago. BL on time; W1 entered by staff (PS up by 10, WB down by 1); W2 marked
    missed; M1 left without data (overdue); M2 two days late, PS corrected from 40 to 50 (down by 10 from
    baseline), WB up by 1, QOL down by 1; M3 early inside its window without a WB answer; M4 upcoming."""
    patient = world.patient("EPR-201", day0_offset=-100)
    answer(world, patient, "BL", {"PS": 60, "WB": 4, "QOL": 4}, weight="61.0")
    answer(
        world, patient, "W1", {"PS": 70, "WB": 3, "QOL": 4}, staff_reason="Tremor: could not use the tablet"
    )
    miss(world, patient, "W2", "Admitted to another hospital")
    answer(world, patient, "M2", {"PS": 40, "WB": 5, "QOL": 3}, shift_days=9, weight="59.4")
    correct(world, patient, "M2", "PS", 50, "Nurse tapped the wrong level")
    answer(world, patient, "M3", {"PS": 60, "QOL": 4}, shift_days=-5)
    return patient
