"""Everything in one download: every CSV export and every enrolled patient's PDF summary in one ZIP, in
one language. POST with the CSRF token; each part is recorded in the audit trail like its own download."""

from __future__ import annotations

import tempfile
import zipfile

from flask import abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from epro import db
from epro.access import allow
from epro.codes import LANGUAGES
from epro.downloads import zip_download
from epro.exports.formats import FORMATS
from epro.exports.routes import READERS, bp
from epro.exports.writer import csv_chunks, export_rows, filename, options_from_config, record_export
from epro.models import utcnow
from epro.reports import certified_report, enrolled_patient_ids, record_summaries, write_summaries_zip

SPOOL_BYTES = 8 * 1024 * 1024


@bp.route("/everything.zip", methods=["POST"])
@allow(*READERS)
def everything() -> ResponseReturnValue:
    language = request.form.get("lang", "")
    if language not in LANGUAGES:
        abort(400)
    options = options_from_config(language, study_days=False)
    database = db.session()
    now = utcnow()
    reports = [
        certified_report(database, pid, current_user.username, language)
        for pid in enrolled_patient_ids(database)
    ]
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (send_file closes it)
    try:
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for export in FORMATS.values():
                text = "".join(csv_chunks(export, export_rows(export, database, options)))
                bundle.writestr(filename(export, options, now), text.encode("utf-8"))
        database.commit()
        with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as bundle:
            pdfs = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
            with pdfs:
                write_summaries_zip(pdfs, reports, language)
                pdfs.seek(0)
                with zipfile.ZipFile(pdfs) as inner:
                    for name in inner.namelist():
                        bundle.writestr(f"summaries/{name}", inner.read(name))
        for export in FORMATS.values():
            record_export(database, current_user.actor, export, options)
        record_summaries(database, current_user.actor, reports, language)
        database.commit()
    except BaseException:
        archive.close()  # send_file closes it on success; on a failure nobody else would
        raise
    return zip_download(archive, f"epro-everything-{language}-{now.strftime('%Y%m%dT%H%MZ')}.zip")
