"""Which rows belong to a patient, as the audit trail names them: (entity, id) -> patient.

Shared by the signature state (which later events changed a signed patient's data) and the certified copy
(the patient's audit extract). A new kind of patient record adds one query here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from epro.models import (
    ClinicalValue,
    Patient,
    PatientCharacteristic,
    QuestionnaireSession,
    Response,
    Signature,
    Visit,
)

RecordKey = tuple[str, str]


def patient_records(db: Session, patient_ids: Iterable[int]) -> dict[RecordKey, int]:
    """(audit entity, entity id as stored) -> patient id, for every record of the given patients."""
    ids = list(patient_ids)
    if not ids:
        return {}
    records: dict[RecordKey, int] = {("patient", str(pid)): pid for pid in ids}
    visit_patient = {
        visit_id: patient_id
        for visit_id, patient_id in db.exec(
            select(Visit.id, Visit.patient_id).where(col(Visit.patient_id).in_(ids))
        ).all()
        if visit_id is not None
    }
    records.update({("visit", str(v)): p for v, p in visit_patient.items()})
    for entity, model in (
        ("questionnaire_session", QuestionnaireSession),
        ("response", Response),
        ("clinical_value", ClinicalValue),
    ):
        for row_id, visit_id in db.exec(
            select(model.id, model.visit_id).where(col(model.visit_id).in_(list(visit_patient)))
        ).all():
            records[(entity, str(row_id))] = visit_patient[visit_id]
    for entity, owned in (("signature", Signature), ("patient_characteristic", PatientCharacteristic)):
        for row_id, patient_id in db.exec(
            select(owned.id, owned.patient_id).where(col(owned.patient_id).in_(ids))
        ).all():
            records[(entity, str(row_id))] = patient_id
    return records


def patient_id_by_study_id(db: Session, study_id: str) -> int | None:
    return db.exec(select(Patient.id).where(Patient.study_id == study_id)).first()
