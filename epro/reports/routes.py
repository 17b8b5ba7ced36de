"""Downloads of the summary: one patient's PDF (nurse, investigator, admin) and every patient's as a ZIP
(investigator, admin). POST with the CSRF token, since each download is recorded in the audit trail. The
URLs carry no patient data beyond the numeric patient id."""

from __future__ import annotations

import tempfile

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from epro import db
from epro.access import allow
from epro.audit import record
from epro.downloads import attachment, zip_download
from epro.reports import (
    EDITIONS,
    NotEnrolled,
    certified_report,
    enrolled_patient_ids,
    record_summaries,
    write_summaries_zip,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")

SPOOL_BYTES = 8 * 1024 * 1024


def _edition() -> str:
    edition = request.form.get("lang", "")
    if edition not in EDITIONS:
        abort(400)
    return edition


@bp.route("/patients/<int:patient_id>/summary", methods=["POST"])
@allow("nurse", "investigator", "admin")
def summary(patient_id: int) -> ResponseReturnValue:
    edition = _edition()
    database = db.session()
    try:
        report, certification = certified_report(database, patient_id, current_user.username, edition)
    except NotEnrolled:
        abort(404)
    database.commit()  # end the read; the PDF renders outside any transaction
    from epro.reports.render import pdf_filename, render_pdf  # WeasyPrint loads only where PDFs are made

    pdf = render_pdf(report, edition, certification)
    record(
        database, current_user.actor, "export.summary", "patient", patient_id, field="edition", new=edition
    )
    database.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(pdf_filename(report, edition))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/summaries", methods=["POST"])
@allow("investigator", "admin")
def summaries() -> ResponseReturnValue:
    edition = _edition()
    database = db.session()
    reports = [
        certified_report(database, pid, current_user.username, edition)
        for pid in enrolled_patient_ids(database)
    ]
    database.commit()
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (send_file closes it)
    write_summaries_zip(archive, reports, edition)
    record_summaries(database, current_user.actor, reports, edition)
    database.commit()
    return zip_download(archive, f"summaries-{edition}.zip")
