"""What turns a summary PDF into a record: a document identifier, the signature state at rendering, the
audit-chain head, and the patient's data as an attached CSV (the same long format as the study export)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import current_app
from sqlmodel import Session

from epro.audit import ChainHead, chain_head
from epro.exports.columns import ExportOptions
from epro.exports.formats import FORMATS
from epro.exports.writer import csv_chunks, export_rows
from epro.models import Patient
from epro.signatures import SignatureState, state_of


@dataclass(frozen=True, slots=True)
class Certification:
    document_id: str
    signature: SignatureState
    chain_head: ChainHead | None
    attachment_name: str
    attachment: bytes

    @property
    def urn(self) -> str:
        return f"urn:uuid:{uuid.UUID(self.document_id)}"


def patient_csv(db: Session, patient_id: int, language: str, export: str = "long") -> bytes:
    """One export restricted to one patient, as the same CSV bytes the study-wide export writes."""
    options = ExportOptions(
        language=language, studyid=current_app.config.get("SDTM_STUDYID", "EPRO"), patient_id=patient_id
    )
    chosen = FORMATS[export]
    return "".join(csv_chunks(chosen, export_rows(chosen, db, options))).encode("utf-8")


def certify(db: Session, patient_id: int, language: str) -> Certification:
    patient = db.get(Patient, patient_id)
    assert patient is not None
    return Certification(
        document_id=uuid.uuid4().hex,
        signature=state_of(db, patient_id),
        chain_head=chain_head(db),
        attachment_name=f"data-{patient.study_id}-long.csv",
        attachment=patient_csv(db, patient_id, language),
    )
