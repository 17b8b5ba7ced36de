"""Reading clinical values: per patient for the visit and patient pages, study-wide for exports and statistics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Boolean, type_coerce
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from epro.models import ClinicalValue, Patient, PatientCharacteristic, Visit

#: Rows fetched at a time by the study-wide readers (a server-side cursor on PostgreSQL).
BATCH = 2000


def values_by_visit(db: Session, patient_id: int) -> dict[int, dict[str, ClinicalValue]]:
    """visit id -> measure code -> value, for one patient (visits without values are absent)."""
    rows = db.exec(
        select(ClinicalValue)
        .join(Visit, col(Visit.id) == ClinicalValue.visit_id)
        .where(Visit.patient_id == patient_id)
        .order_by(col(Visit.number), col(ClinicalValue.id))
    ).all()
    found: dict[int, dict[str, ClinicalValue]] = {}
    for row in rows:
        found.setdefault(row.visit_id, {})[row.measure_code] = row
    return found


def visit_values(db: Session, visit_id: int) -> dict[str, ClinicalValue]:
    """measure code -> value, for one visit."""
    rows = db.exec(select(ClinicalValue).where(ClinicalValue.visit_id == visit_id)).all()
    return {row.measure_code: row for row in rows}


class StudyValue(NamedTuple):
    """One clinical value with its patient and visit, as plain columns (no ORM object)."""

    patient_id: int
    study_id: str
    procedure_date: date | None
    protocol_code: str | None
    protocol_version: str | None
    visit_id: int
    visit_code: str
    visit_number: int
    planned_study_day: int
    target_date: date
    actual_date: date | None
    value_id: int
    measure_code: str
    measure_set: str
    value_number: Decimal | None
    value_code: str | None
    unit: str
    sample_date: date
    out_of_range: bool
    corrected: bool
    entered_at: datetime
    withdrawn_on: date | None

    @property
    def value(self) -> Decimal | str | None:
        return self.value_number if self.value_code is None else self.value_code


def study_values(db: Session, patient_id: int | None = None) -> Iterator[StudyValue]:
    """Every clinical value of the study (or of one patient) with its patient and visit, in one query, ordered
    by study ID, visit number and value id; streamed BATCH rows at a time (iterate once; the session stays
    busy meanwhile)."""
    query = (
        core_select(
            col(Patient.id),
            col(Patient.study_id),
            col(Patient.procedure_date),
            col(Patient.protocol_code),
            col(Patient.protocol_version),
            col(Visit.id),
            col(Visit.code),
            col(Visit.number),
            col(Visit.study_day),
            col(Visit.target_date),
            col(Visit.actual_date),
            col(ClinicalValue.id),
            col(ClinicalValue.measure_code),
            col(ClinicalValue.measure_set),
            col(ClinicalValue.value_number),
            col(ClinicalValue.value_code),
            col(ClinicalValue.unit),
            col(ClinicalValue.sample_date),
            col(ClinicalValue.out_of_range),
            type_coerce(col(ClinicalValue.corrected_at).is_not(None), Boolean),
            col(ClinicalValue.entered_at),
            col(Patient.withdrawn_on),
        )
        .join(Visit, col(Visit.id) == ClinicalValue.visit_id)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .order_by(col(Patient.study_id), col(Visit.number), col(ClinicalValue.id))
    )
    if patient_id is not None:
        query = query.where(col(Visit.patient_id) == patient_id)
    for row in db.connection().execute(query, execution_options={"yield_per": BATCH}):
        yield StudyValue._make(row)


def patient_characteristics(db: Session, patient_id: int) -> dict[str, PatientCharacteristic]:
    """code -> baseline characteristic, for one patient."""
    rows = db.exec(select(PatientCharacteristic).where(PatientCharacteristic.patient_id == patient_id)).all()
    return {row.code: row for row in rows}
