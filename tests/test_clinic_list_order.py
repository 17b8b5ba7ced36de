"""The clinic list shows the visits a nurse would pick out of the whole schedule by hand, in the order she
would read them: each section is read in parts along indexes (epro.staff.clinic), so the page is compared
with every visit of the study sorted in Python.

A mixed study on the suite's database: day 0 spread around today, visits rescheduled (some to before their
window opened, with a reason), marked missed or answered, one patient withdrawn.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from epro import db
from epro.audit import SYSTEM, Actor
from epro.enrolment import enrol
from epro.followup.changes import withdraw
from epro.models import Patient, Visit
from epro.questionnaires.answers import enter_on_behalf
from epro.questionnaires.sessions import is_submitted, live_session
from epro.registry import register_patient
from epro.schedule import load_protocol
from epro.staff.clinic import LOOKAHEAD_DAYS, SHOWN
from epro.staff.operations import mark_missed, reschedule
from tests.conftest import World, nurse_signed_in

ROW = re.compile(r'<a href="/staff/visits/(\d+)">')
SEED = 20261201


def _section(home: str, name: str) -> str:
    following = {"due": 'id="overdue"', "overdue": 'id="upcoming"', "upcoming": "</main>"}[name]
    return home.split(f'<section id="{name}">')[1].split(following)[0]


def _shown(section: str) -> list[int]:
    """Visit ids in the order of the section's rows (the row's own link, not its Open button's)."""
    ids: list[int] = []
    for visit_id in map(int, ROW.findall(section)):
        if not ids or ids[-1] != visit_id:
            ids.append(visit_id)
    return ids


def _build(app: Flask, nurse: Actor, today: date) -> None:
    """Patients whose visits fall before, on and after today, and what nurses do to visits."""
    rng = random.Random(SEED)
    with app.app_context(), db.unit_of_work() as s:
        protocol = load_protocol("default")
        for number in range(90):
            patient = register_patient(
                s, SYSTEM, study_id=f"EPR-{number:03d}", birth_year=1960, sex="F", preferred_language="ko"
            )
            enrol(s, patient, protocol, today + timedelta(days=rng.randint(-60, 12)), SYSTEM)
        # A visit due today that a nurse moved to before its window opened: its appointment lies before
        # every other due visit's, outside the range the appointment index is read over.
        early = register_patient(
            s, SYSTEM, study_id="EPR-900", birth_year=1960, sex="M", preferred_language="ko"
        )
        enrol(s, early, protocol, today - timedelta(days=33), SYSTEM)
        s.flush()
        month_one = s.exec(select(Visit).where(Visit.patient_id == early.id, Visit.code == "M1")).one()
        reschedule(s, nurse, month_one, today - timedelta(days=28), "Came early for a scan")

        visits = s.exec(select(Visit).where(Visit.window_start <= today + timedelta(days=20))).all()
        for visit in visits:
            roll = rng.random()
            if roll < 0.15 and visit.window_start <= today:
                values = {"PS1": 60, "WB1": 4, "QOL1": 4}
                on = min(visit.window_end, today)
                enter_on_behalf(s, nurse, visit, values, "ko", "Could not use the tablet", today, on)
            elif roll < 0.25 and visit.window_start <= today:
                mark_missed(s, nurse, visit, "Admitted to hospital")
            elif roll < 0.35 and live_session(s, visit) is None:
                moved = visit.target_date + timedelta(days=rng.randint(-10, 10))
                patient = s.get(Patient, visit.patient_id)
                assert patient is not None and patient.procedure_date is not None
                if moved >= patient.procedure_date:
                    reschedule(s, nurse, visit, moved, "Patient asked")
        withdrawn = s.exec(select(Patient).where(Patient.study_id == "EPR-007")).one()
        withdraw(s, nurse, withdrawn, today, "Moved to another hospital", today, None)


def _expected(app: Flask, today: date) -> dict[str, tuple[list[int], int]]:
    """Each section worked out from every visit of the study: (the first SHOWN ids, how many there are)."""
    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    with app.app_context(), db.unit_of_work() as s:
        rows = s.exec(select(Visit, Patient).join(Patient, Patient.id == Visit.patient_id)).all()
        open_visits = [
            (visit, patient)
            for visit, patient in rows
            if patient.withdrawn_on is None and visit.missed_at is None and not is_submitted(s, visit)
        ]

    def by_appointment(row: tuple[Visit, Patient]) -> tuple[date, str, int]:
        return (row[0].appointment_date, row[1].study_id, row[0].number)

    due = sorted(
        (
            r
            for r in open_visits
            if r[0].window_start <= today <= r[0].window_end and r[0].appointment_date <= today
        ),
        key=by_appointment,
    )
    upcoming = sorted(
        (
            r
            for r in open_visits
            if today < r[0].appointment_date <= horizon
            and r[0].window_start <= horizon
            and r[0].window_end >= today
        ),
        key=by_appointment,
    )
    overdue = sorted(
        (r for r in open_visits if r[0].window_end < today),
        key=lambda r: (-r[0].window_end.toordinal(), r[1].study_id),
    )
    return {
        name: ([visit.id for visit, _ in section[:SHOWN]], len(section))  # type: ignore[misc]
        for name, section in (("due", due), ("overdue", overdue), ("upcoming", upcoming))
    }


def test_each_section_shows_the_visits_worked_out_from_the_whole_schedule_in_order(
    app: Flask, world: World, client: FlaskClient
) -> None:
    nurse_id = world.staff("nurse2")
    today = world.today()
    _build(app, Actor("staff", nurse_id, "nurse"), today)
    nurse_signed_in(world, client)
    home = client.get("/staff/").text
    expected = _expected(app, today)

    for name, (ids, count) in expected.items():
        section = _section(home, name)
        assert _shown(section) == ids, name
        assert ("처음 50건" in section or "최근 50건" in section) == (count > SHOWN), name

    due_ids, due_count = expected["due"]
    assert due_count > 10 and expected["upcoming"][1] > 10 and expected["overdue"][1] > SHOWN
    with world.session() as s:
        early = s.exec(
            select(Visit).join(Patient).where(Patient.study_id == "EPR-900", Visit.code == "M1")
        ).one()
    assert due_ids[0] == early.id  # the visit moved to before its window opened heads the due list
    assert "EPR-007" not in home  # withdrawn: out of the clinic list
