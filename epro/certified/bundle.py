"""The certified copy of one patient: the signed PDF/A summary, the patient's long CSV, the patient's
audit extract, and a manifest with the SHA-256 of every file, the audit-chain head and the signature state.

The manifest's own SHA-256 is recorded in the audit trail ("export.bundle"), so with database access a
verifier can also tell a manifest rewritten to match edited files.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from sqlmodel import Session

from epro.audit import Actor, record
from epro.certified.certification import patient_csv
from epro.reports import certified_report

MANIFEST = "manifest.json"
FORMAT = "epro-certified-copy/1"
BUNDLE_ACTION = "export.bundle"


@dataclass(frozen=True, slots=True)
class Bundle:
    patient_id: int
    study_id: str
    files: dict[str, bytes]
    manifest: bytes

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_bundle(db: Session, patient_id: int, edition: str, generated_by: str, now: datetime) -> Bundle:
    """Everything read in the caller's transaction (one consistent moment); raises NotEnrolled."""
    from epro.reports.render import pdf_filename, render_pdf  # WeasyPrint loads only where PDFs are made

    report, certification = certified_report(db, patient_id, generated_by, edition)
    language = "en" if edition == "en" else "ko"
    study_id = report.study_id
    files = {
        pdf_filename(report, edition): render_pdf(report, edition, certification),
        certification.attachment_name: certification.attachment,
        f"audit-{study_id}.csv": patient_csv(db, patient_id, language, export="audit"),
    }
    descriptions = {
        pdf_filename(report, edition): "summary, PDF/A-3b, with the signature block and the data attached",
        certification.attachment_name: "the patient's answers, long format (CSV, UTF-8)",
        f"audit-{study_id}.csv": "audit trail events about the patient's records (CSV, as stored)",
    }
    head = certification.chain_head
    manifest = {
        "format": FORMAT,
        "study_id": study_id,
        "patient_id": patient_id,
        "generated_at": now.astimezone(UTC).isoformat(),
        "generated_by": generated_by,
        "document_id": certification.urn,
        "files": [
            {"name": name, "sha256": sha256(data), "bytes": len(data), "description": descriptions[name]}
            for name, data in files.items()
        ],
        "audit_chain_head": None if head is None else {"event_id": head.event_id, "hash": head.hash},
        "signature": certification.signature.as_json(),
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return Bundle(patient_id, study_id, files, text.encode("utf-8"))


def write_bundle(target: IO[bytes], bundle: Bundle) -> None:
    # Stored, not deflated: a changed byte in the archive stays a changed byte of the file it belongs to.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in bundle.files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST, bundle.manifest)


def record_bundle(db: Session, actor: Actor, bundle: Bundle) -> None:
    record(
        db,
        actor,
        BUNDLE_ACTION,
        "patient",
        bundle.patient_id,
        field="manifest_sha256",
        new=bundle.manifest_sha256,
    )
