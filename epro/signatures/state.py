"""The signature state of patients: unsigned, signed, or superseded by a later change (and when).

A signature stays valid while the patient's data still hashes to what was signed *and* no audited change
to that data came after it (so a value changed and changed back still supersedes it). The date shown is the
first such change; if the data differs without any audited change (edited behind the application's back),
the signature is superseded with no date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from epro.models import AuditEvent, Signature
from epro.patient_records import patient_records
from epro.signatures.content import signed_content

#: Audited actions that change signed data, with the fields that count (None: every field).
CHANGE_ACTIONS: dict[str, frozenset[str] | None] = {
    "patient.update": frozenset({"study_id", "birth_year", "sex"}),
    "visit.missed": None,
    "visit.weight": None,
    "clinical.enter": None,
    "clinical.correct": None,
    "characteristic.enter": None,
    "characteristic.change": None,
    "session.submit": None,
    "session.staff_entry": None,
    "response.submit": None,
    "response.correct": None,
}
SIGN_ACTION = "signature.sign"


class SignatureStatus(StrEnum):
    UNSIGNED = "unsigned"
    SIGNED = "signed"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class SignatureFacts:
    """What the signature manifests (21 CFR 11.50), as plain data for pages and PDFs."""

    id: int
    signer_name: str
    signer_role: str
    meaning: str
    signed_at: datetime
    signed_at_clinic: str
    clinic_zone: str
    content_hash: str

    @classmethod
    def of(cls, signature: Signature) -> SignatureFacts:
        assert signature.id is not None
        return cls(
            signature.id,
            signature.signer_name,
            signature.signer_role,
            signature.meaning,
            signature.signed_at,
            signature.signed_at_clinic,
            signature.clinic_zone,
            signature.content_hash,
        )


@dataclass(frozen=True, slots=True)
class SignatureState:
    patient_id: int
    status: SignatureStatus
    #: The latest signature, valid or not.
    signature: SignatureFacts | None
    #: When the first later change was recorded (UTC); None when unsigned, valid, or changed unaudited.
    superseded_at: datetime | None
    #: SHA-256 of the patient's data now.
    current_hash: str

    @property
    def valid(self) -> bool:
        return self.status is SignatureStatus.SIGNED

    def as_json(self) -> dict[str, object]:
        facts = self.signature
        return {
            "status": self.status.value,
            "current_content_sha256": self.current_hash,
            "superseded_at": self.superseded_at.isoformat() if self.superseded_at else None,
            "signature": None
            if facts is None
            else {
                "id": facts.id,
                "signer_name": facts.signer_name,
                "signer_role": facts.signer_role,
                "meaning": facts.meaning,
                "signed_at_utc": facts.signed_at.isoformat(),
                "signed_at_clinic": facts.signed_at_clinic,
                "clinic_zone": facts.clinic_zone,
                "content_sha256": facts.content_hash,
            },
        }


def latest_signatures(db: Session, patient_ids: list[int]) -> dict[int, Signature]:
    latest: dict[int, Signature] = {}
    for signature in db.exec(
        select(Signature).where(col(Signature.patient_id).in_(patient_ids)).order_by(col(Signature.id))
    ).all():
        latest[signature.patient_id] = signature
    return latest


def _sign_event_ids(db: Session, signatures: Iterable[Signature]) -> dict[int, int]:
    """Signature id -> id of the audit event that recorded it."""
    ids = [str(s.id) for s in signatures]
    if not ids:
        return {}
    return {
        int(entity_id): event_id
        for event_id, entity_id in db.exec(
            select(AuditEvent.id, AuditEvent.entity_id).where(
                AuditEvent.action == SIGN_ACTION,
                AuditEvent.entity == "signature",
                col(AuditEvent.entity_id).in_(ids),
            )
        ).all()
        if entity_id is not None and event_id is not None
    }


def _first_changes(db: Session, patient_ids: list[int], after: dict[int, int]) -> dict[int, datetime]:
    """Per patient, the time of the first audited change to its data after the given event id."""
    if not after:
        return {}
    records = patient_records(db, patient_ids)
    first: dict[int, datetime] = {}
    # Six columns, more than sqlmodel's select() types: SQLAlchemy's, on the session's connection.
    query = (
        core_select(
            col(AuditEvent.id),
            col(AuditEvent.at),
            col(AuditEvent.action),
            col(AuditEvent.entity),
            col(AuditEvent.entity_id),
            col(AuditEvent.field),
        )
        .where(col(AuditEvent.id) > min(after.values()), col(AuditEvent.action).in_(list(CHANGE_ACTIONS)))
        .order_by(col(AuditEvent.id))
    )
    for event_id, at, action, entity, entity_id, field in db.connection().execute(query).all():
        patient_id = records.get((entity, entity_id or ""))
        if patient_id is None or patient_id in first or patient_id not in after:
            continue
        fields = CHANGE_ACTIONS[action]
        assert event_id is not None  # a stored event's key
        if event_id > after[patient_id] and (fields is None or field in fields):
            first[patient_id] = at
    return first


def state_for(db: Session, patient_ids: Iterable[int]) -> dict[int, SignatureState]:
    """The signature state of each patient, in a handful of queries (for the study page and the PDF)."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    contents = signed_content(db, ids)
    latest = latest_signatures(db, ids)
    sign_events = _sign_event_ids(db, latest.values())
    after = {pid: sign_events.get(signature.id or 0, 0) for pid, signature in latest.items()}
    changes = _first_changes(db, ids, after)
    states = {}
    for pid in ids:
        signature = latest.get(pid)
        current = contents[pid].sha256
        if signature is None:
            states[pid] = SignatureState(pid, SignatureStatus.UNSIGNED, None, None, current)
            continue
        changed_at = changes.get(pid)
        unchanged = signature.content_hash == current and changed_at is None and after[pid] != 0
        states[pid] = SignatureState(
            pid,
            SignatureStatus.SIGNED if unchanged else SignatureStatus.SUPERSEDED,
            SignatureFacts.of(signature),
            None if unchanged else changed_at,
            current,
        )
    return states


def state_of(db: Session, patient_id: int) -> SignatureState:
    return state_for(db, [patient_id])[patient_id]
