"""DM (one record per enrolled subject) and SV (the visits that happened or were marked missed)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func
from sqlmodel import Session, col, select

from epro.exports.columns import iso_date
from epro.exports.definitions import visit_label
from epro.models import Patient, Response, Visit
from epro.sdtm.common import StudyFacts, ascii_text, sdtm_day

SEX = {"M": "M", "F": "F"}


def _last_dates(db: Session) -> dict[int, object]:
    """Each subject's latest visit or assessment date (RFENDTC, RFPENDTC)."""
    visits = db.exec(
        select(Visit.patient_id, func.max(Visit.actual_date)).group_by(col(Visit.patient_id))
    ).all()
    answers = db.exec(
        select(Visit.patient_id, func.max(Response.assessment_date))
        .join(Visit, col(Visit.id) == Response.visit_id)
        .group_by(col(Visit.patient_id))
    ).all()
    latest: dict[int, object] = {}
    for patient_id, day in [*visits, *answers]:
        if day is not None and (latest.get(patient_id) is None or day > latest[patient_id]):  # type: ignore[operator]
            latest[patient_id] = day
    return latest


def dm_rows(db: Session, facts: StudyFacts) -> Iterator[dict[str, object]]:
    """Enrolled subjects (a day 0 set); registered patients never enrolled are not subjects yet."""
    latest = _last_dates(db)
    patients = db.exec(
        select(Patient).where(col(Patient.procedure_date).is_not(None)).order_by(col(Patient.study_id))
    ).all()
    for patient in patients:
        day0 = patient.procedure_date
        assert day0 is not None
        end = latest.get(patient.id)  # type: ignore[arg-type]
        yield {
            "STUDYID": facts.studyid,
            "DOMAIN": "DM",
            "USUBJID": facts.usubjid(patient.study_id),
            "SUBJID": patient.study_id,
            "RFSTDTC": iso_date(day0),
            "RFENDTC": iso_date(end) or None,  # type: ignore[arg-type]
            "RFXSTDTC": iso_date(day0),
            "RFXENDTC": iso_date(day0),
            "RFICDTC": None,
            "RFPENDTC": iso_date(end) or None,  # type: ignore[arg-type]
            "DTHDTC": None,
            "DTHFL": None,
            "SITEID": facts.siteid,
            "BRTHDTC": str(patient.birth_year),
            "AGE": day0.year - patient.birth_year,
            "AGEU": "YEARS",
            "SEX": SEX[patient.sex],
            "RACE": None,
            "ARMCD": facts.armcd,
            "ARM": facts.arm,
            "ACTARMCD": facts.armcd,
            "ACTARM": facts.arm,
            "ARMNRS": None,
            "ACTARMUD": None,
            "COUNTRY": facts.country,
        }


def planned_day(day: int) -> int:
    """VISITDY: the protocol's planned day on the SDTM scale (day 0 of the schedule is study day 1)."""
    return day + 1 if day >= 0 else day


def sv_rows(db: Session, facts: StudyFacts) -> Iterator[dict[str, object]]:
    """Visits that happened (SVOCCUR = Y) and visits a nurse marked missed (SVOCCUR = N, SVREASOC = why).
    Visits still to come, or overdue with nothing recorded, are left out: nothing is known of them yet."""
    query = (
        select(Visit, Patient)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .where(col(Patient.procedure_date).is_not(None))
        .where((col(Visit.actual_date).is_not(None)) | (col(Visit.missed_at).is_not(None)))
        .order_by(col(Patient.study_id), col(Visit.number))
    )
    for visit, patient in db.exec(query).all():
        day0 = patient.procedure_date
        assert day0 is not None and patient.protocol_code and patient.protocol_version
        occurred = visit.actual_date is not None
        label = visit_label(patient.protocol_code, patient.protocol_version, visit.code, "en")
        yield {
            "STUDYID": facts.studyid,
            "DOMAIN": "SV",
            "USUBJID": facts.usubjid(patient.study_id),
            "VISITNUM": visit.number,
            "VISIT": ascii_text(label),
            "SVPRESP": "Y",
            "SVOCCUR": "Y" if occurred else "N",
            "SVREASOC": None if occurred else visit.missed_reason,
            "VISITDY": planned_day(visit.study_day),
            "SVSTDTC": iso_date(visit.actual_date) or None,
            "SVENDTC": iso_date(visit.actual_date) or None,
            "SVSTDY": sdtm_day(day0, visit.actual_date),
            "SVENDY": sdtm_day(day0, visit.actual_date),
        }
