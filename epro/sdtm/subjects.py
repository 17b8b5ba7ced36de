"""DM (one record per enrolled subject), DS (completion or withdrawal) and SV (the visits that happened or were
marked missed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from epro.exports.columns import iso_date
from epro.models import Patient, Response, Visit
from epro.sdtm.common import StudyFacts, ascii_text, sdtm_day
from epro.visit_labels import visit_label

SEX = {"M": "M", "F": "F"}


def _enrolled(db: Session) -> list[Patient]:
    """The subjects: patients with a day 0, in study ID order."""
    return list(
        db.exec(
            select(Patient).where(col(Patient.procedure_date).is_not(None)).order_by(col(Patient.study_id))
        )
    )


def _last_dates(db: Session) -> dict[int, date]:
    """Each subject's latest visit or assessment date (RFENDTC, RFPENDTC)."""
    visits = db.exec(
        select(Visit.patient_id, func.max(Visit.actual_date)).group_by(col(Visit.patient_id))
    ).all()
    answers = db.exec(
        select(Visit.patient_id, func.max(Response.assessment_date))
        .join(Visit, col(Visit.id) == Response.visit_id)
        .group_by(col(Visit.patient_id))
    ).all()
    latest: dict[int, date] = {}
    for patient_id, day in [*visits, *answers]:
        if day is not None and (latest.get(patient_id) is None or day > latest[patient_id]):
            latest[patient_id] = day
    return latest


def dm_rows(db: Session, facts: StudyFacts) -> Iterator[dict[str, object]]:
    """Enrolled subjects (a day 0 set); registered patients never enrolled are not subjects yet."""
    latest = _last_dates(db)
    for patient in _enrolled(db):
        day0 = patient.procedure_date
        assert day0 is not None and patient.id is not None
        end = latest.get(patient.id)
        participation_end = patient.withdrawn_on or end
        yield {
            "STUDYID": facts.studyid,
            "DOMAIN": "DM",
            "USUBJID": facts.usubjid(patient.study_id),
            "SUBJID": patient.study_id,
            "RFSTDTC": iso_date(day0),
            "RFENDTC": iso_date(end) or None,
            "RFXSTDTC": iso_date(day0),
            "RFXENDTC": iso_date(day0),
            "RFICDTC": None,
            "RFPENDTC": iso_date(participation_end) or None,
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


DISPOSITION_EVENT = ("DISPOSITION EVENT", "C74590")
COMPLETED = ("COMPLETED", "C25250")
OTHER = ("OTHER", "C17649")
#: CDISC NCOMPLT terms a withdrawal reason can name, with words (English, Korean) that name them; the first
#: term whose word appears in the reason wins, otherwise OTHER. DSTERM keeps the reason as typed.
WITHDRAWAL_TERMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("DEATH", "C28554", ("death", "died", "사망")),
    ("ADVERSE EVENT", "C41331", ("adverse", "side effect", "이상반응", "이상 반응", "부작용")),
    (
        "LOST TO FOLLOW-UP",
        "C48227",
        ("lost to follow", "no contact", "추적 소실", "추적소실", "연락 두절", "연락두절"),
    ),
    (
        "WITHDRAWAL BY SUBJECT",
        "C49634",
        (
            "withdrew",
            "withdrawal by subject",
            "consent",
            "refus",
            "patient's request",
            "동의 철회",
            "동의철회",
            "거부",
            "본인 요청",
            "환자 요청",
        ),
    ),
    ("PHYSICIAN DECISION", "C48250", ("physician", "investigator", "의사 판단", "연구자 판단")),
)
#: Every DSDECOD term the package can write: code -> NCI code.
NCOMPLT_TERMS = {COMPLETED[0]: COMPLETED[1], **{t: c for t, c, _w in WITHDRAWAL_TERMS}, OTHER[0]: OTHER[1]}


def disposition_term(reason: str) -> str:
    """DSDECOD of a withdrawal: the CDISC term the reason's words name, else OTHER."""
    folded = reason.casefold()
    for term, _code, words in WITHDRAWAL_TERMS:
        if any(word in folded for word in words):
            return term
    return OTHER[0]


def ds_rows(db: Session, facts: StudyFacts) -> Iterator[dict[str, object]]:
    """One disposition record per subject whose participation ended: withdrawn (DSTERM = the reason as typed)
    or completed (the protocol's last visit took place). Subjects still in follow-up have none yet."""
    last_visit: dict[int, tuple[int, date | None]] = {}
    for patient_id, number, actual in db.exec(
        select(Visit.patient_id, Visit.number, col(Visit.actual_date)).order_by(
            col(Visit.patient_id), col(Visit.number)
        )
    ).all():
        last_visit[patient_id] = (number, actual)
    for patient in _enrolled(db):
        day0 = patient.procedure_date
        assert day0 is not None and patient.id is not None
        if patient.withdrawn_on is not None:
            term, decode, on = (
                patient.withdrawal_reason,
                disposition_term(patient.withdrawal_reason or ""),
                patient.withdrawn_on,
            )
        else:
            _number, actual = last_visit.get(patient.id, (0, None))
            if actual is None:
                continue
            term, decode, on = COMPLETED[0], COMPLETED[0], actual
        yield {
            "STUDYID": facts.studyid,
            "DOMAIN": "DS",
            "USUBJID": facts.usubjid(patient.study_id),
            "DSSEQ": 1,
            "DSTERM": term,
            "DSDECOD": decode,
            "DSCAT": DISPOSITION_EVENT[0],
            "DSSTDTC": iso_date(on),
            "DSSTDY": sdtm_day(day0, on),
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
        label = visit_label(patient.protocol_code, patient.protocol_version, visit.code).en
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
