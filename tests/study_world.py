"""A small constructed study with hand-computed statistics: missed and overdue visits, a patient with no
baseline, a late visit. Shared by the study tests (overview, page, report, CSV)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlmodel import select

from epro import db
from epro.audit import SYSTEM, Actor
from epro.clock import clinic_today
from epro.enrolment import enrol
from epro.models import Visit
from epro.questionnaires.answers import enter_on_behalf
from epro.registry import register_patient
from epro.schedule import load_protocol
from epro.staff.operations import mark_missed

#: Day 0 forty days ago: BL, W1, W2 and M1 have closed windows (M1 closed 3 days ago), M2 onward upcoming.
DAY0_OFFSET = -40

#: study ID -> (age at day 0, sex, {visit code: (PS, WB, QOL) or "missed" or None for no data}).
PATIENTS: dict[str, tuple[int, str, dict[str, object]]] = {
    "EPR-201": (50, "M", {"BL": (60, 4, 4), "W1": (70, 5, 4), "W2": (50, 3, 3), "M1": "missed"}),
    # W1 falls 20 points (PS) and 2 (WB) from baseline; M1 is done late (2 days after its window closed).
    "EPR-202": (60, "F", {"BL": (80, 6, 5), "W1": (60, 4, 5), "M1": (90, 6, 6)}),
    # No baseline: values at W1 and W2, but no change from baseline.
    "EPR-203": (70, "F", {"W1": (40, 2, 2), "W2": (50, 3, 3)}),
}
LATE = {("EPR-202", "M1"): 2}
#: Albumin (g/dL) by study ID and visit; PT activity (%) of EPR-202 at baseline, measured at the visit.
ALBUMIN = {
    ("EPR-201", "BL"): "3.8",
    ("EPR-202", "BL"): "3.0",
    ("EPR-201", "W1"): "3.6",
    ("EPR-202", "W1"): "2.9",
    ("EPR-203", "W1"): "3.2",
}
VISIT_VALUES = {("EPR-202", "BL", "PT"): "50"}
#: Entered at enrolment. EPR-201: Child-Pugh 5 points (A); EPR-202 with the PT of its baseline visit:
#: bilirubin 2, albumin 2, PT 2, ascites 2, encephalopathy 1 = 9 points (B); EPR-203: nothing recorded.
CHARACTERISTICS = {
    "EPR-201": {
        "AETIOL": "HBV",
        "BILI": "1.0",
        "ALB": "3.8",
        "INR": "1.20",
        "ASCITES": "NONE",
        "ENCEPH": "NONE",
    },
    "EPR-202": {"AETIOL": "ALCOHOL", "BILI": "2.5", "ALB": "3.0", "ASCITES": "SLIGHT", "ENCEPH": "NONE"},
}


def build(app: Flask, nurse_id: int) -> dict[str, int]:
    """Creates the study; returns patient ids by study ID."""
    nurse = Actor("staff", nurse_id, "nurse1")
    ids = {}
    with app.app_context(), db.unit_of_work() as s:
        today = clinic_today()
        day0 = today + timedelta(days=DAY0_OFFSET)
        protocol = load_protocol("default")
        for study_id, (age, sex, visits) in PATIENTS.items():
            patient = register_patient(
                s, SYSTEM, study_id=study_id, birth_year=day0.year - age, sex=sex, preferred_language="ko"
            )
            enrol(s, patient, protocol, day0, SYSTEM)
            ids[study_id] = patient.id
            for code, outcome in visits.items():
                visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
                if outcome == "missed":
                    mark_missed(s, nurse, visit, "Admitted elsewhere")
                elif isinstance(outcome, tuple):
                    on = _done_on(visit, LATE.get((study_id, code)))
                    values = dict(zip(("PS1", "WB1", "QOL1"), outcome, strict=True))
                    enter_on_behalf(s, nurse, visit, values, "ko", "Could not use the tablet", today, on)
            _clinical(s, nurse, protocol, patient, study_id, today)
    return ids


def _clinical(s, nurse: Actor, protocol, patient, study_id: str, today: date) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from epro.clinical.characteristics import characteristics_for
    from epro.clinical.measures import measure_set_for
    from epro.clinical.operations import enter_value, set_characteristic

    measures = measure_set_for(protocol)
    wanted = {(code, "ALB"): value for (sid, code), value in ALBUMIN.items() if sid == study_id}
    wanted |= {(code, m): value for (sid, code, m), value in VISIT_VALUES.items() if sid == study_id}
    for (code, measure_code), value in wanted.items():
        visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
        measure = measures.get(measure_code)
        enter_value(
            s,
            nurse,
            visit,
            measures,
            measure,
            Decimal(value),
            visit.target_date,
            confirmed=False,
            today=today,
        )
    by_code = {c.code: c for c in characteristics_for(protocol)}
    for code, value in CHARACTERISTICS.get(study_id, {}).items():
        characteristic = by_code[code]
        typed = Decimal(value) if characteristic.kind == "number" else value
        set_characteristic(s, nurse, patient, characteristic, typed, None, existing=None)


def _done_on(visit: Visit, days_late: int | None) -> date:
    if days_late:
        return visit.window_end + timedelta(days=days_late)
    return visit.target_date


#: The baseline by date (epro.baseline), hand-computed: a second constructed study, day 0 forty days ago.
#: EPR-204's baseline visit was assessed on paper 3 days before day 0 and transcribed today: it is the
#: baseline. EPR-205's "BL" visit was done 2 days after day 0 (late): not a baseline, so EPR-205 has none.
#: study ID -> (age, sex, {visit code: ((PS, WB, QOL), study day assessed, albumin, PT activity)}).
DATED: dict[str, tuple[int, str, dict[str, tuple[tuple[int, int, int], int, str, str | None]]]] = {
    "EPR-204": (40, "M", {"BL": ((50, 5, 5), -3, "3.5", "50"), "W1": ((40, 4, 4), 7, "3.3", None)}),
    "EPR-205": (60, "F", {"BL": ((70, 6, 6), 2, "3.4", "50"), "W1": ((50, 4, 4), 7, "3.0", None)}),
}
#: Entered at enrolment for both; with the PT at baseline: bilirubin 2, albumin 2, PT 2, ascites 2,
#: encephalopathy 1 = 9 points (B) for EPR-204; EPR-205 has no PT at baseline: not assessed.
DATED_CHARACTERISTICS = {"AETIOL": "HBV", "BILI": "2.5", "ALB": "3.0", "ASCITES": "SLIGHT", "ENCEPH": "NONE"}


def build_dated(app: Flask, nurse_id: int) -> dict[str, int]:
    """Creates the second study (DATED); returns patient ids by study ID."""
    from decimal import Decimal

    from epro.clinical.characteristics import characteristics_for
    from epro.clinical.measures import measure_set_for
    from epro.clinical.operations import enter_value, set_characteristic

    nurse = Actor("staff", nurse_id, "nurse1")
    ids = {}
    with app.app_context(), db.unit_of_work() as s:
        today = clinic_today()
        day0 = today + timedelta(days=DAY0_OFFSET)
        protocol = load_protocol("default")
        measures = measure_set_for(protocol)
        by_code = {c.code: c for c in characteristics_for(protocol)}
        for study_id, (age, sex, visits) in DATED.items():
            patient = register_patient(
                s, SYSTEM, study_id=study_id, birth_year=day0.year - age, sex=sex, preferred_language="ko"
            )
            enrol(s, patient, protocol, day0, SYSTEM)
            ids[study_id] = patient.id
            for code, (scores, day, albumin, pt) in visits.items():
                visit = s.exec(select(Visit).where(Visit.patient_id == patient.id, Visit.code == code)).one()
                on = day0 + timedelta(days=day)
                values = dict(zip(("PS1", "WB1", "QOL1"), scores, strict=True))
                enter_on_behalf(s, nurse, visit, values, "ko", "Transcribed from paper", today, on)
                for measure_code, value in (("ALB", albumin), ("PT", pt)):
                    if value is not None:
                        measure = measures.get(measure_code)
                        enter_value(
                            s,
                            nurse,
                            visit,
                            measures,
                            measure,
                            Decimal(value),
                            on,
                            confirmed=False,
                            today=today,
                        )
            for code, value in DATED_CHARACTERISTICS.items():
                characteristic = by_code[code]
                typed = Decimal(value) if characteristic.kind == "number" else value
                set_characteristic(s, nurse, patient, characteristic, typed, None, existing=None)
    return ids
