"""The demo study: five patients enrolled at different dates, so that some visits are completed, some are
due today, some overdue; and one demo account per staff role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from epro import instruments
from epro.audit import SYSTEM, record
from epro.enrolment import enrol
from epro.models import Patient, QuestionnaireSession, Response
from epro.registry import create_staff_user, register_patient
from epro.schedule import Protocol


@dataclass(frozen=True)
class DemoPatient:
    study_id: str
    age: int
    sex: str
    language: str
    #: Day 0 relative to today (negative: the procedure was that many days ago).
    day0_offset: int
    #: Visit codes the nurse marked missed.
    missed: tuple[str, ...] = ()
    #: Past visits left without data (they show as overdue).
    no_data: tuple[str, ...] = ()


DEMO_PATIENTS = (
    DemoPatient("EPR-001", 59, "M", "ko", -120, missed=("M2",)),
    DemoPatient("EPR-002", 55, "M", "en", -30),
    DemoPatient("EPR-003", 47, "M", "ko", -18, no_data=("W2",)),
    DemoPatient("EPR-004", 64, "F", "ko", -7),
    DemoPatient("EPR-005", 56, "F", "en", 3),
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
DEMO_WEIGHTS = {"BL": 61.2, "W1": 60.8, "W2": 61.0, "M1": 61.9, "M3": 63.0, "M4": 63.4}


def is_seeded(db: Session) -> bool:
    return db.exec(select(Patient).where(Patient.study_id == DEMO_PATIENTS[0].study_id)).first() is not None


def seed(db: Session, protocol: Protocol, today: date, zone: ZoneInfo) -> dict[str, str]:
    """Create the demo study; returns the staff user names with their generated passwords."""
    staff = {}
    nurse_id = None
    for username, role, full_name in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        user = create_staff_user(
            db, SYSTEM, username=username, password=password, role=role, full_name=full_name
        )
        staff[username] = password
        if role == "nurse":
            nurse_id = user.id
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
        for visit in enrol(db, patient, protocol, day0, SYSTEM):
            if visit.code in demo.missed and visit.window_end < today:
                visit.missed_reason = "Patient admitted to another hospital"
                visit.missed_at = datetime.combine(visit.window_end, time(17), zone)
                db.add(visit)
                record(
                    db, SYSTEM, "visit.missed", "visit", visit.id, new="missed", reason=visit.missed_reason
                )
            elif visit.code in DEMO_SCORES and visit.target_date < today and visit.code not in demo.no_data:
                _answer(db, visit, demo.language, nurse_id, zone)  # type: ignore[arg-type]
    db.flush()
    return staff


def _answer(db: Session, visit, language: str, nurse_id: int, zone: ZoneInfo) -> None:  # type: ignore[no-untyped-def]
    visit.actual_date = visit.target_date
    weight = DEMO_WEIGHTS.get(visit.code)
    visit.weight_kg = None if weight is None else Decimal(str(weight))
    moment = datetime.combine(visit.target_date, time(10, 30), zone)
    session = QuestionnaireSession(
        token=secrets.token_urlsafe(24),
        visit_id=visit.id,
        state="submitted",
        language=language,
        started_by_id=nurse_id,
        started_at=moment,
        last_activity_at=moment,
        submitted_at=moment,
    )
    db.add_all([visit, session])
    db.flush()
    for code, value in zip(("PS", "WB", "QOL"), DEMO_SCORES[visit.code], strict=True):
        instrument = instruments.current(code)
        response = Response(
            visit_id=visit.id,
            session_id=session.id,
            instrument_code=code,  # type: ignore[arg-type]
            instrument_version=instrument.version,
            item_code=instrument.items[0].code,
            value=value,
            language=language,
            entered_by="patient",
            answered_at=moment,
            submitted_at=moment,
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
