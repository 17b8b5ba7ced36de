"""Investigator outputs: the per-patient summary (report data, charts, PDF), its downloads and CLI commands.

For the staff patient page: ``inline_context(db, patient_id)`` gives the variables that
``templates/reports/_inline.html`` needs (the same charts and change-from-baseline table as the PDF).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from flask import Flask, current_app
from flask_babel import get_locale
from sqlmodel import Session, col, select

from epro.audit import Actor, record
from epro.clock import clinic_zone
from epro.enrolment import NotEnrolled
from epro.models import Patient, utcnow
from epro.reports.context import Report, build_report
from epro.reports.view import EDITIONS, ReportView

if TYPE_CHECKING:
    from epro.certified.certification import Certification


class CertifiedReport(NamedTuple):
    report: Report
    certification: Certification


__all__ = [
    "EDITIONS",
    "CertifiedReport",
    "NotEnrolled",
    "Report",
    "certified_report",
    "enrolled_patient_ids",
    "init_app",
    "inline_context",
    "record_summaries",
    "report_for",
]


def report_for(db: Session, patient_id: int, generated_by: str) -> Report:
    """The summary data of one patient as of now (raises NotEnrolled)."""
    return build_report(
        db,
        patient_id,
        study_name=current_app.config["STUDY_NAME"],
        zone=clinic_zone(),
        now=utcnow(),
        generated_by=generated_by,
    )


def inline_context(db: Session, patient_id: int, generated_by: str = "") -> dict[str, Any]:
    """Variables for ``{% include "reports/_inline.html" %}`` on the staff patient page.

    ``summary`` is None for a patient who is not enrolled yet (the partial then shows nothing).
    """
    try:
        report = report_for(db, patient_id, generated_by)
    except NotEnrolled:
        report = None
    return {
        "summary": report,
        "summary_view": ReportView.for_edition(str(get_locale())),
        "summary_editions": EDITIONS,
    }


def enrolled_patient_ids(db: Session) -> list[int]:
    query = select(Patient.id).where(col(Patient.procedure_date).is_not(None)).order_by(col(Patient.study_id))
    return [patient_id for patient_id in db.exec(query).all() if patient_id is not None]


def certified_report(db: Session, patient_id: int, generated_by: str, edition: str) -> CertifiedReport:
    """The summary data with what makes it a record (signature state, identifier, attached data)."""
    from epro.certified.certification import certify

    report = report_for(db, patient_id, generated_by)
    return CertifiedReport(report, certify(db, patient_id, "en" if edition == "en" else "ko"))


def write_summaries_zip(
    target: IO[bytes],
    reports: Iterable[CertifiedReport],
    edition: str,
    done: Callable[[Report], None] | None = None,
) -> int:
    """One PDF per report into a ZIP archive; returns how many were written."""
    from epro.reports.render import pdf_filename, render_pdf  # WeasyPrint loads only where PDFs are made

    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for report, certification in reports:
            archive.writestr(pdf_filename(report, edition), render_pdf(report, edition, certification))
            count += 1
            if done is not None:
                done(report)
    return count


def record_summaries(db: Session, actor: Actor, reports: Iterable[CertifiedReport], edition: str) -> None:
    """Audit a download of summaries: one event per patient, naming the edition."""
    for report, _certification in reports:
        record(db, actor, "export.summaries", "patient", report.patient_id, field="edition", new=edition)


def iter_reports(
    db: Session, patient_ids: Iterable[int], generated_by: str, edition: str
) -> Iterator[CertifiedReport]:
    for patient_id in patient_ids:
        yield certified_report(db, patient_id, generated_by, edition)


def init_app(app: Flask) -> None:
    """Register this feature's blueprint and CLI commands."""
    from epro.reports.cli import summaries_command, summary_command
    from epro.reports.routes import bp

    app.register_blueprint(bp)
    app.cli.add_command(summary_command)
    app.cli.add_command(summaries_command)
