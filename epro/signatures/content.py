"""What a signature covers: one patient's data at one moment, in ONE canonical serialisation.

Every answer, every clinical value (with its sample date), the baseline characteristics, every visit's
recorded status and dates (actual date, submission time, each answer's assessment date), and the
patient's identifying facts. The status is
the *recorded* one (completed, missed or open): a visit turning from "due" to "overdue" as days pass is no
change to the data and must not supersede a signature.

To cover more data, add a section to SECTIONS and bump FORMAT. The serialisation is JSON with sorted keys,
no spaces, UTF-8; dates ISO 8601, times UTC to the microsecond ending in Z, decimals without exponent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from epro.codes import SessionState
from epro.models import ClinicalValue, Patient, PatientCharacteristic, QuestionnaireSession, Response, Visit

FORMAT = "epro-sign/3"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SignedContent:
    patient_id: int
    data: bytes
    sha256: str


def canonical(value: Any) -> Any:
    """One spelling for every value type the serialisation meets."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value


def serialise(document: Json) -> bytes:
    return json.dumps(canonical(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


# Sections ---------------------------------------------------------------------------------------------------
# Each takes the patients' ids and returns, per patient, what goes under its key in the document.


def _patients(db: Session, ids: list[int]) -> dict[int, Any]:
    return {
        patient.id: {
            "id": patient.id,
            "study_id": patient.study_id,
            "birth_year": patient.birth_year,
            "sex": patient.sex,
            "procedure_date": patient.procedure_date,
            "protocol": [patient.protocol_code, patient.protocol_version],
            "withdrawn_on": patient.withdrawn_on,
            "withdrawal_reason": patient.withdrawal_reason,
        }
        for patient in db.exec(select(Patient).where(col(Patient.id).in_(ids))).all()
        if patient.id is not None
    }


def _visits(db: Session, ids: list[int]) -> dict[int, Any]:
    sessions = {
        session.visit_id: session
        for session in db.exec(
            select(QuestionnaireSession)
            .join(Visit, col(Visit.id) == QuestionnaireSession.visit_id)
            .where(col(Visit.patient_id).in_(ids), QuestionnaireSession.state == SessionState.SUBMITTED)
        ).all()
    }
    out: dict[int, list[Json]] = {pid: [] for pid in ids}
    for visit in db.exec(
        select(Visit).where(col(Visit.patient_id).in_(ids)).order_by(col(Visit.patient_id), col(Visit.number))
    ).all():
        session = sessions.get(visit.id or 0)
        status = "completed" if session else "missed" if visit.missed_at is not None else "open"
        out[visit.patient_id].append(
            {
                "code": visit.code,
                "number": visit.number,
                "status": status,
                "actual_date": visit.actual_date,
                "missed_reason": visit.missed_reason,
                "submitted_at": session.submitted_at if session else None,
                "entered_by": session.entered_by if session else None,
                "staff_reason": session.staff_reason if session else None,
            }
        )
    return out


def _answers(db: Session, ids: list[int]) -> dict[int, Any]:
    out: dict[int, list[Json]] = {pid: [] for pid in ids}
    for response, visit_code, patient_id in db.exec(
        select(Response, Visit.code, Visit.patient_id)
        .join(Visit, col(Visit.id) == Response.visit_id)
        .where(col(Visit.patient_id).in_(ids))
        .order_by(
            col(Visit.patient_id), col(Visit.number), col(Response.instrument_code), col(Response.item_code)
        )
    ).all():
        out[patient_id].append(
            {
                "visit": visit_code,
                "instrument": [response.instrument_code, response.instrument_version],
                "item": response.item_code,
                "value": response.value,
                "language": response.language,
                "entered_by": response.entered_by,
                "answered_at": response.answered_at,
                "submitted_at": response.submitted_at,
                "assessment_date": response.assessment_date,
                "corrected_at": response.corrected_at,
                "correction_reason": response.correction_reason,
            }
        )
    return out


def _clinical_values(db: Session, ids: list[int]) -> dict[int, Any]:
    out: dict[int, list[Json]] = {pid: [] for pid in ids}
    for value, visit_code, patient_id in db.exec(
        select(ClinicalValue, Visit.code, Visit.patient_id)
        .join(Visit, col(Visit.id) == ClinicalValue.visit_id)
        .where(col(Visit.patient_id).in_(ids))
        .order_by(col(Visit.patient_id), col(Visit.number), col(ClinicalValue.measure_code))
    ).all():
        out[patient_id].append(
            {
                "visit": visit_code,
                "measure": [value.measure_set, value.measure_code],
                "number": value.value_number,
                "code": value.value_code,
                "unit": value.unit,
                "sample_date": value.sample_date,
                "out_of_range": value.out_of_range,
                "corrected_at": value.corrected_at,
                "correction_reason": value.correction_reason,
            }
        )
    return out


def _characteristics(db: Session, ids: list[int]) -> dict[int, Any]:
    out: dict[int, list[Json]] = {pid: [] for pid in ids}
    for item in db.exec(
        select(PatientCharacteristic)
        .where(col(PatientCharacteristic.patient_id).in_(ids))
        .order_by(col(PatientCharacteristic.patient_id), col(PatientCharacteristic.code))
    ).all():
        out[item.patient_id].append(
            {
                "code": item.code,
                "value": item.value,
                "changed_at": item.changed_at,
                "change_reason": item.change_reason,
            }
        )
    return out


SECTIONS: tuple[tuple[str, Callable[[Session, list[int]], dict[int, Any]]], ...] = (
    ("patient", _patients),
    ("visits", _visits),
    ("answers", _answers),
    ("clinical_values", _clinical_values),
    ("characteristics", _characteristics),
)


def signed_content(db: Session, patient_ids: Iterable[int]) -> dict[int, SignedContent]:
    """The canonical bytes and their SHA-256 for each patient, as the data stands in this transaction."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    sections = [(name, build(db, ids)) for name, build in SECTIONS]
    contents = {}
    for pid in ids:
        document: Json = {"format": FORMAT}
        document.update({name: values.get(pid) for name, values in sections})
        data = serialise(document)
        contents[pid] = SignedContent(pid, data, hashlib.sha256(data).hexdigest())
    return contents


def content_of(db: Session, patient_id: int) -> SignedContent:
    return signed_content(db, [patient_id])[patient_id]
