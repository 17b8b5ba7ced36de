"""The demo study: five patients enrolled at different dates, so that some visits are completed, some are
due today, some overdue; and one demo account per staff role.

The patients follow the seed trial's Table 1 (age, sex, HBV aetiology, ascites, albumin, bilirubin,
prothrombin time activity, ICG R15 at baseline), with clinical values at every completed visit that drift
the way the trial describes: albumin and cholesterol mostly rising, diuretics reduced without weight gain."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from epro import instruments
from epro.audit import SYSTEM, Actor, record
from epro.clinical.characteristics import characteristics_for
from epro.clinical.measures import measure_set_for
from epro.clinical.operations import enter_value, set_characteristic
from epro.codes import SessionState
from epro.enrolment import enrol
from epro.models import Patient, QuestionnaireSession, Response, Visit
from epro.registry import create_staff_user, register_patient
from epro.schedule import Protocol


@dataclass(frozen=True)
class Baseline:
    """Table 1 of the seed trial: the clinical state at enrolment."""

    ascites: str
    albumin: str
    bilirubin: str
    pt_activity: int
    icg_r15: str
    weight_offset: str
    encephalopathy: str = "NONE"
    aetiology: str = "HBV"


@dataclass(frozen=True)
class DemoPatient:
    study_id: str
    age: int
    sex: str
    language: str
    #: Day 0 relative to today (negative: the procedure was that many days ago).
    day0_offset: int
    baseline: Baseline
    #: Visit codes the nurse marked missed.
    missed: tuple[str, ...] = ()
    #: Past visits left without data (they show as overdue).
    no_data: tuple[str, ...] = ()


DEMO_PATIENTS = (
    DemoPatient(
        "EPR-001", 59, "M", "ko", -120, Baseline("MODSEV", "2.6", "1.6", 58, "45.8", "0"), missed=("M2",)
    ),
    DemoPatient("EPR-002", 55, "M", "en", -30, Baseline("SLIGHT", "2.8", "0.6", 75, "33.9", "6.3")),
    DemoPatient(
        "EPR-003", 47, "M", "ko", -18, Baseline("MODSEV", "3.4", "0.5", 70, "25.5", "8.1"), no_data=("W2",)
    ),
    DemoPatient("EPR-004", 64, "F", "ko", -7, Baseline("SLIGHT", "3.5", "1.4", 73, "46.3", "-9.6")),
    DemoPatient("EPR-005", 56, "F", "en", 3, Baseline("NONE", "3.2", "1.0", 76, "30.3", "-4.8")),
)
#: User name, role, printed name (shown with e-signatures).
DEMO_STAFF = (
    ("nurse", "nurse", "Park Seoyeon"),
    ("investigator", "investigator", "Kim Jihoon"),
    ("admin", "admin", "Lee Hana"),
)

# A plausible recovery: scores by visit code (PS, WB, QOL).
DEMO_SCORES = {
    "BL": (60, 3, 3),
    "W1": (60, 3, 4),
    "W2": (70, 4, 4),
    "M1": (70, 4, 5),
    "M2": (80, 5, 5),
    "M3": (80, 5, 6),
    "M4": (90, 6, 6),
}
#: EPR-001's body weight (kg) by visit; the other patients' weights are offset from these.
DEMO_WEIGHTS = {"BL": 61.2, "W1": 60.8, "W2": 61.0, "M1": 61.9, "M2": 62.4, "M3": 63.0, "M4": 63.4}
#: Ascites improving as diuretics are reduced: a visit's step (0 = baseline) to the grade one milder.
ASCITES_MILDER = {"MODSEV": "SLIGHT", "SLIGHT": "NONE", "NONE": "NONE"}


def clinical_values(demo: DemoPatient, visit_code: str, step: int) -> dict[str, Decimal | str]:
    """Plausible values for every measure at a visit; `step` counts the visits since baseline (0)."""
    base = demo.baseline
    pt = base.pt_activity + (2 * step if demo.study_id in ("EPR-001", "EPR-004") else step % 2)
    ascites = base.ascites if step < 3 else ASCITES_MILDER[base.ascites]
    values: dict[str, Decimal | str] = {
        "ALB": Decimal(base.albumin) + Decimal("0.1") * (step if demo.study_id != "EPR-003" else step % 2),
        "BILI": Decimal(base.bilirubin) + Decimal("0.1") * (step % 3) - Decimal("0.1") * (step // 3),
        "PT": Decimal(pt),
        "INR": (Decimal(1) + Decimal(100 - pt) * Decimal("0.011")).quantize(Decimal("0.01")),
        "CHOL": Decimal(
            118 + 7 * DEMO_PATIENTS.index(demo) + (4 * step if demo.study_id != "EPR-005" else 0)
        ),
        "AFP": Decimal("3.1") + Decimal("0.7") * ((step * 3 + DEMO_PATIENTS.index(demo)) % 5),
        "CREAT": Decimal("0.82") + Decimal("0.03") * (step % 3),
        "WEIGHT": Decimal(str(DEMO_WEIGHTS[visit_code])) + Decimal(base.weight_offset),
        "SPIRDOSE": Decimal(max(50, 200 - 25 * step)),
        "FURODOSE": Decimal(max(0, 40 - 10 * step)),
        "ASCITES": ascites,
        "ENCEPH": base.encephalopathy,
    }
    if visit_code == "BL" or visit_code.startswith("M"):
        values["ICGR15"] = Decimal(base.icg_r15) - Decimal("1.5") * step
    return values


def baseline_characteristics(demo: DemoPatient) -> dict[str, Decimal | str]:
    base = demo.baseline
    values = clinical_values(demo, "BL", 0)
    return {
        "AETIOL": base.aetiology,
        "BILI": values["BILI"],
        "ALB": values["ALB"],
        "PT": values["PT"],
        "INR": values["INR"],
        "ASCITES": base.ascites,
        "ENCEPH": base.encephalopathy,
    }


def is_seeded(db: Session) -> bool:
    return db.exec(select(Patient).where(Patient.study_id == DEMO_PATIENTS[0].study_id)).first() is not None


def seed(db: Session, protocol: Protocol, today: date, zone: ZoneInfo) -> dict[str, str]:
    """Create the demo study; returns the staff user names with their generated passwords."""
    staff = {}
    nurse = SYSTEM
    for username, role, full_name in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        user = create_staff_user(
            db, SYSTEM, username=username, password=password, role=role, full_name=full_name
        )
        staff[username] = password
        if role == "nurse":
            nurse = Actor("staff", user.id, user.username)
    assert nurse.id is not None, "DEMO_STAFF has a nurse"
    measure_set = measure_set_for(protocol)
    characteristics = characteristics_for(protocol)
    for demo in DEMO_PATIENTS:
        day0 = today + timedelta(days=demo.day0_offset)
        patient = register_patient(
            db,
            SYSTEM,
            study_id=demo.study_id,
            birth_year=day0.year - demo.age,
            sex=demo.sex,
            preferred_language=demo.language,
        )
        for characteristic in characteristics:
            value = baseline_characteristics(demo).get(characteristic.code)
            if value is not None:
                set_characteristic(db, nurse, patient, characteristic, value, None, existing=None)
        for visit in enrol(db, patient, protocol, day0, SYSTEM):
            if visit.code in demo.missed and visit.window_end < today:
                visit.missed_reason = "Patient admitted to another hospital"
                visit.missed_at = datetime.combine(visit.window_end, time(17), zone)
                db.add(visit)
                record(
                    db, SYSTEM, "visit.missed", "visit", visit.id, new="missed", reason=visit.missed_reason
                )
            elif visit.code in DEMO_SCORES and visit.target_date < today and visit.code not in demo.no_data:
                _answer(db, visit, demo.language, nurse.id, zone)
                values = clinical_values(demo, visit.code, list(DEMO_SCORES).index(visit.code))
                for measure in measure_set.for_visit(visit.code):
                    enter_value(
                        db,
                        nurse,
                        visit,
                        measure_set,
                        measure,
                        values[measure.code],
                        visit.target_date,
                        confirmed=True,
                        today=today,
                    )
    db.flush()
    return staff


def _answer(db: Session, visit: Visit, language: str, nurse_id: int, zone: ZoneInfo) -> None:
    assert visit.id is not None
    visit.actual_date = visit.target_date
    moment = datetime.combine(visit.target_date, time(10, 30), zone)
    session = QuestionnaireSession(
        token=secrets.token_urlsafe(24),
        visit_id=visit.id,
        state=SessionState.SUBMITTED,
        language=language,
        started_by_id=nurse_id,
        started_at=moment,
        last_activity_at=moment,
        submitted_at=moment,
    )
    db.add_all([visit, session])
    db.flush()
    assert session.id is not None
    for action, state in (("session.start", f"visit {visit.id}"), ("session.submit", SessionState.SUBMITTED)):
        record(db, SYSTEM, action, "questionnaire_session", session.id, new=state, reason="demo data")
    for code, value in zip(("PS", "WB", "QOL"), DEMO_SCORES[visit.code], strict=True):
        instrument = instruments.current(code)
        response = Response(
            visit_id=visit.id,
            session_id=session.id,
            instrument_code=code,
            instrument_version=instrument.version,
            item_code=instrument.items[0].code,
            value=value,
            language=language,
            entered_by="patient",
            answered_at=moment,
            submitted_at=moment,
            assessment_date=visit.actual_date,
        )
        db.add(response)
        db.flush()
        record(
            db,
            SYSTEM,
            "response.submit",
            "response",
            response.id,
            field=f"{code}.{response.item_code}",
            new=value,
            reason="demo data",
        )
