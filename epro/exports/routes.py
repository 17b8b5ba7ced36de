"""The investigator's exports page and the streamed downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from sqlmodel import Session

from epro import db
from epro.access import allow
from epro.codes import LANGUAGES
from epro.downloads import attachment
from epro.exports.formats import FORMATS
from epro.exports.writer import csv_chunks, export_rows, filename, options_from_config, record_export
from epro.models import utcnow

bp = Blueprint("exports", __name__, url_prefix="/exports")
#: Who may take study-wide exports.
READERS = ("investigator", "admin")


@bp.route("/")
@allow(*READERS)
def index() -> ResponseReturnValue:
    return render_template("exports/index.html", formats=FORMATS.values(), site_language=str(get_locale()))


@bp.route("/<name>.csv")
@allow(*READERS)
def download(name: str) -> ResponseReturnValue:
    """Stream one export. A GET (a plain link or form), audited in a short write transaction before the
    first row, so the long read that follows never holds the database's write lock.

    The request holds at most one pooled connection at any moment (the audit write, then the read), and
    takes the read's connection before the response starts: a busy pool is a clear 503, never a body cut
    off half way."""
    export = FORMATS.get(name)
    if export is None:
        abort(404)
    language = request.args.get("lang") or export.default_language or str(get_locale())
    study_days = request.args.get("study_days") == "1"
    if language not in LANGUAGES or (study_days and not export.study_days):
        abort(400)
    options = options_from_config(language, study_days, excel=request.args.get("excel") == "1")
    with db.write_in_read_request() as database:  # ends the request's read first: one connection at a time
        record_export(database, current_user.actor, export, options)
    # The rows are read after the view has returned (and the request's session is closed), so the stream
    # has a session of its own: its connection is taken now (a busy pool is a 503, not a 200 cut short)
    # and given back when the response is closed, finished or not.
    reader = Session(db.engine())
    try:
        reader.connection()
    except Exception:
        reader.close()
        raise
    chunks = csv_chunks(export, export_rows(export, reader, options), excel=options.excel)
    response = Response(stream_with_context(chunk.encode("utf-8") for chunk in chunks), mimetype="text/csv")
    response.call_on_close(reader.close)
    response.headers["Content-Disposition"] = attachment(filename(export, options, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response
