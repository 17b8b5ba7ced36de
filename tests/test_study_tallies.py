"""The study overview kept incrementally (epro.study.tallies) equals the overview computed afresh, after any
sequence of the app's own operations: answers entered by staff, corrected answers, clinical values entered
and corrected (baselines included), baseline characteristics changed, visits marked missed and back, day 0
corrected, patients withdrawn and enrolled. Each hypothesis example starts from its own copy of a small
study (tests/study_world.py: both constructed studies), views it once (the tallies are built), then runs the
operations with views in between (the tallies are brought up to date from the audit trail), and compares
the kept overview with one built from nothing, on today's date and on a later one; the completion counts
are also checked against epro.schedule.visit_status visit by visit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, delete, select

from epro import db, instruments
from epro.audit import SYSTEM, Actor
from epro.clinical.characteristics import characteristics_for
from epro.clinical.measures import measure_set_for
from epro.clinical.operations import correct_value, enter_value, set_characteristic
from epro.clock import clinic_today
from epro.enrolment import enrol
from epro.followup.changes import correct_day0, plan_day0_correction, withdraw
from epro.models import (
    ClinicalValue,
    Patient,
    PatientCharacteristic,
    QuestionnaireSession,
    Response,
    StudyTallyState,
    Visit,
    utcnow,
)
from epro.questionnaires.answers import correct_response, enter_on_behalf
from epro.registry import register_patient
from epro.schedule import VisitStatus, load_protocol, visit_status
from epro.staff.operations import mark_missed
from epro.study.compute import build_overview
from epro.study.overview import StudyOverview
from epro.visits import visit_rows
from tests import study_world
from tests.conftest import World
from tests.fresh_state import drop_base, fresh_app, migrated_base

PROTOCOL = load_protocol("default")
REASON = "Checked against the source document"
OPERATIONS = (
    "staff_entry",
    "correct_answer",
    "enter_clinical",
    "correct_clinical",
    "characteristic",
    "missed",
    "day0",
    "withdraw",
    "enrol",
)


#: Not a refusal by the app's rules: a mistake, in the test or the app.
PROGRAMMING_ERRORS = (TypeError, AttributeError, NameError, KeyError, SQLAlchemyError)


@dataclass(frozen=True)
class Base:
    url: str
    directory: Path
    nurse_id: int


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Base]:
    directory = tmp_path_factory.mktemp("tallies")
    app, url = migrated_base(directory, SECRET_KEY="tallies")
    nurse_id = World(app).staff()
    study_world.build(app, nurse_id)
    study_world.build_dated(app, nurse_id)
    app.extensions["epro_engine"].dispose()
    yield Base(url, directory, nurse_id)
    drop_base(url)


def overview(today: date) -> StudyOverview:
    """The overview as a page view makes it, in a session of its own (a request's)."""
    with Session(db.engine()) as session:
        return build_overview(session, PROTOCOL, today=today, now=NOW, study_name="T")


NOW = utcnow()


def _pick(data: st.DataObject, rows: list, label: str):  # type: ignore[no-untyped-def,type-arg]
    return rows[data.draw(st.integers(0, len(rows) - 1), label=label)] if rows else None


def _operate(s: Session, data: st.DataObject, nurse: Actor, kind: str, today: date) -> None:
    """One operation as a nurse does it through the app (the app's own functions; refused ones skipped)."""
    patients = s.exec(select(Patient).order_by(col(Patient.id))).all()
    patient = _pick(data, patients, "patient")
    visits = s.exec(select(Visit).where(Visit.patient_id == patient.id).order_by(col(Visit.number))).all()
    visit = _pick(data, visits, "visit")
    measures = measure_set_for(PROTOCOL)
    if kind == "staff_entry" and visit is not None:
        values = {}
        for code in visit.instruments.split():
            for item in instruments.current(code).items:
                values[item.code] = data.draw(st.sampled_from(sorted(item.values)), label=item.code)
        day = data.draw(st.integers(-10, 10), label="assessed")
        assessed = min(today, (patient.procedure_date or today) + timedelta(days=day))
        enter_on_behalf(s, nurse, visit, values, "ko", "Could not use the tablet", today, assessed)
    elif kind == "correct_answer":
        responses = s.exec(
            select(Response).join(Visit).where(Visit.patient_id == patient.id).order_by(col(Response.id))
        ).all()
        response = _pick(data, responses, "response")
        if response is not None:
            item = next(
                i
                for i in instruments.get(response.instrument_code, response.instrument_version).items
                if i.code == response.item_code
            )
            new = data.draw(st.sampled_from(sorted(item.values)), label="corrected")
            correct_response(s, nurse, response, new, REASON)
    elif kind == "enter_clinical" and visit is not None:
        measure = measures.get(data.draw(st.sampled_from(["ALB", "PT", "BILI", "INR", "WEIGHT"]), label="m"))
        value = Decimal(data.draw(st.integers(10, 60), label="value")) / 10
        sampled = min(
            today, (patient.procedure_date or today) + timedelta(days=data.draw(st.integers(-5, 5)))
        )
        enter_value(s, nurse, visit, measures, measure, value, sampled, confirmed=True, today=today)
    elif kind == "correct_clinical":
        rows = s.exec(
            select(ClinicalValue)
            .join(Visit)
            .where(Visit.patient_id == patient.id)
            .order_by(col(ClinicalValue.id))
        ).all()
        row = _pick(data, rows, "clinical")
        if row is not None and row.value_number is not None:
            value = Decimal(data.draw(st.integers(10, 60), label="value")) / 10
            day = data.draw(st.integers(-5, 5), label="sampled")
            sampled = min(today, (patient.procedure_date or today) + timedelta(days=day))
            measure = measures.get(row.measure_code)
            correct_value(s, nurse, row, measure, value, sampled, REASON, confirmed=True, today=today)
    elif kind == "characteristic":
        by_code = {c.code: c for c in characteristics_for(PROTOCOL)}
        code = data.draw(st.sampled_from(["AETIOL", "ASCITES", "ALB"]), label="characteristic")
        characteristic = by_code[code]
        if characteristic.kind == "number":
            value: object = Decimal(data.draw(st.integers(20, 45), label="value")) / 10
        else:
            value = data.draw(st.sampled_from([o.code for o in characteristic.options]), label="option")
        existing = s.exec(
            select(PatientCharacteristic).where(
                PatientCharacteristic.patient_id == patient.id, PatientCharacteristic.code == code
            )
        ).first()
        set_characteristic(
            s, nurse, patient, characteristic, value, None if existing is None else REASON, existing=existing
        )
    elif kind == "missed" and visit is not None:
        mark_missed(s, nurse, visit, "Admitted elsewhere")
    elif kind == "day0" and patient.procedure_date is not None:
        new_day0 = patient.procedure_date + timedelta(days=data.draw(st.integers(-20, 20), label="day0"))
        moves = plan_day0_correction(visit_rows(s, today, patient_id=patient.id), PROTOCOL, new_day0, today)
        correct_day0(s, nurse, patient, moves, new_day0, REASON)
    elif kind == "withdraw" and patient.procedure_date is not None:
        on = today - timedelta(days=data.draw(st.integers(0, 30), label="withdrawn"))
        withdraw(s, nurse, patient, on, "Moved abroad", today, None)
    elif kind == "enrol":
        number = len(patients) + 300
        new = register_patient(
            s, SYSTEM, study_id=f"EPR-{number}", birth_year=1950, sex="M", preferred_language="ko"
        )
        enrol(s, new, PROTOCOL, today - timedelta(days=data.draw(st.integers(0, 60), label="day0")), SYSTEM)


def _statuses(s: Session, today: date) -> Counter[tuple[str, str]]:
    """Each visit's status by epro.schedule.visit_status, one visit at a time: (visit code, status) counts."""
    rows = s.exec(
        select(Visit, Patient, QuestionnaireSession.state)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .join(
            QuestionnaireSession,
            (col(QuestionnaireSession.visit_id) == Visit.id) & (QuestionnaireSession.state != "cancelled"),
            isouter=True,
        )
        .where(col(Patient.procedure_date).is_not(None))
    ).all()
    return Counter(
        (
            visit.code,
            visit_status(
                today=today,
                window_start=visit.window_start,
                window_end=visit.window_end,
                completed=state == "submitted",
                missed=visit.missed_reason is not None,
                withdrawn_on=patient.withdrawn_on,
            ).value,
        )
        for visit, patient, state in rows
    )


def _by_status(kept: StudyOverview) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for v in kept.completion.per_visit:
        for status in VisitStatus:
            if getattr(v, status.value):
                found[(v.visit_code, status.value)] = getattr(v, status.value)
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), st.booleans()), max_size=6))
def test_the_kept_overview_equals_one_computed_afresh(base: Base, data: st.DataObject, steps) -> None:  # type: ignore[no-untyped-def]
    with fresh_app(base.url, base.directory, SECRET_KEY="tallies") as app, app.app_context():
        today = clinic_today()
        nurse = Actor("staff", base.nurse_id, "nurse1")
        overview(today)  # builds the tallies
        for kind, view in steps:
            try:
                with db.unit_of_work() as s:
                    _operate(s, data, nurse, kind, today)
            except PROGRAMMING_ERRORS:
                raise
            except Exception:  # refused by the app's rules (already missed, out of range...): nothing saved
                pass
            if view:
                overview(today)
        later = today + timedelta(days=data.draw(st.integers(0, 90), label="later"))
        kept = [overview(today), overview(later)]
        with db.unit_of_work() as s:
            s.exec(delete(StudyTallyState))  # type: ignore[call-overload]
        fresh = [overview(today), overview(later)]
        with Session(app.extensions["epro_engine"]) as s:
            by_visit_status = _statuses(s, later)
    assert [replace(k, generated_at=NOW) for k in kept] == fresh
    assert _by_status(kept[1]) == by_visit_status
