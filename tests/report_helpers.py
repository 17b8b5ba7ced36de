"""Story helpers for the report tests: answer a visit (on the tablet or by staff), correct an answer,
mark a visit missed. Answers go through the operations the app uses (epro.questionnaires)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from epro.audit import Actor
from epro.models import ClinicalValue, Patient, Response, Visit
from epro.questionnaires import answers, sessions
from epro.questionnaires.steps import steps_for
from tests.conftest import World

SEOUL = ZoneInfo("Asia/Seoul")


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
    """Submit the given answers (instrument code -> value of its item) at the visit, ``shift_days`` after
    its target date: on the tablet, or entered by staff when a ``staff_reason`` is given. Instruments left
    out of ``values`` stay unanswered (a sitting from before every item was required): only the given
    instruments' steps are submitted."""
    nurse = _nurse(world)
    today = world.today()
    with world.session() as s:
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        visit.actual_date = visit.target_date + timedelta(days=shift_days)
        steps = [step for step in steps_for(visit) if step.instrument.code in values]
        by_item = {step.item.code: values[step.instrument.code] for step in steps}
        if staff_reason is not None:
            answers.enter_on_behalf(s, nurse, visit, by_item, "ko", staff_reason, today, visit.actual_date)
        else:
            questionnaire = sessions.open_tablet_session(s, visit, nurse)
            sessions.set_language(s, questionnaire, "ko")
            assert questionnaire.id is not None
            for step in steps:
                answers.save_draft(
                    s, questionnaire.id, questionnaire.token, step, by_item[step.item.code], "ko"
                )
            answers.submit(s, questionnaire, visit, steps, sessions.PATIENT, visit.actual_date)
        if weight is not None:
            s.add(
                ClinicalValue(
                    visit_id=visit.id,  # type: ignore[arg-type]
                    measure_code="WEIGHT",
                    measure_set="liver-1.0",
                    value_number=Decimal(weight),
                    unit="kg",
                    sample_date=visit.actual_date,
                    entered_by_id=nurse.id,
                )
            )
        s.commit()


def correct(world: World, patient: Patient, code: str, measure: str, value: int, reason: str) -> None:
    """A nurse corrects one submitted answer; the original value goes to the audit trail."""
    nurse = _nurse(world)
    with world.session() as s:
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        response = s.exec(
            select(Response).where(Response.visit_id == visit.id, Response.instrument_code == measure)
        ).one()
        answers.correct_response(s, nurse, response, value, reason)
        s.commit()


def miss(world: World, patient: Patient, code: str, reason: str) -> None:
    with world.session() as s:
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        visit.missed_reason, visit.missed_at = reason, datetime.combine(visit.window_end, time(17), SEOUL)
        s.add(visit)
        s.commit()


def _nurse(world: World) -> Actor:
    from epro.models import StaffUser

    with world.session() as s:
        user = s.exec(select(StaffUser).where(StaffUser.username == "nurse1")).first()
    nurse_id = user.id if user is not None else world.staff("nurse1")
    return Actor("staff", nurse_id, "nurse1")


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
