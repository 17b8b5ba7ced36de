"""The certified copy download for investigators (POST with the CSRF token: it is audited)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from epro import db
from epro.access import allow
from epro.certified.bundle import build_bundle, record_bundle, write_bundle
from epro.downloads import zip_download
from epro.models import utcnow
from epro.reports import EDITIONS, NotEnrolled

bp = Blueprint("bundles", __name__, url_prefix="/certified")


@bp.route("/patients/<int:patient_id>", methods=["POST"])
@allow("investigator")
def download(patient_id: int) -> ResponseReturnValue:
    edition = request.form.get("lang", "")
    if edition not in EDITIONS:
        abort(400)
    database = db.session()
    try:
        bundle = build_bundle(database, patient_id, edition, current_user.username, utcnow())
    except NotEnrolled:
        abort(404)
    record_bundle(database, current_user.actor, bundle)
    database.commit()
    archive = io.BytesIO()
    write_bundle(archive, bundle)
    return zip_download(archive, f"certified-copy-{bundle.study_id}-{edition}.zip")
