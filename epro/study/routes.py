"""The study overview page: read by every staff role; investigators land here after signing in."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from epro import db
from epro.access import allow
from epro.clock import clinic_today
from epro.reports.view import ReportView
from epro.schedule import VisitStatus, load_protocol
from epro.signatures import state_for
from epro.study import READERS, cache, overview_for
from epro.study.compute import matrix_rows
from epro.study.review import AlreadyAcknowledged, NothingToReview, ReviewForm, acknowledge
from epro.study.view import HELPERS
from epro.templating import status_badge

bp = Blueprint("study", __name__, url_prefix="/study")

#: Patients per page of the completion matrix.
MATRIX_PAGE = 50


@bp.route("/")
@allow(*READERS)
def overview() -> ResponseReturnValue:
    database = db.session()
    data = overview_for(database)
    pages = max(1, -(-data.patients // MATRIX_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = matrix_rows(
        database, data.visits, clinic_today(), offset=(page - 1) * MATRIX_PAGE, limit=MATRIX_PAGE
    )
    return render_template(
        "study/overview.html",
        signatures=cache.kept(
            "study_signatures",
            (cache.data_version(database), page),
            lambda: state_for(database, [row.patient_id for row in rows]),
        ),
        overview=data,
        view=ReportView.for_edition(str(get_locale())),
        matrix=rows,
        badges={status: status_badge(status) for status in VisitStatus},
        page=page,
        pages=pages,
        **HELPERS,
    )


@bp.route("/reviews/<int:visit_id>", methods=["POST"])
@allow("nurse")
def acknowledge_review(visit_id: int) -> ResponseReturnValue:
    """A nurse acknowledges a clinically meaningful change with a note; back to the clinic list."""
    form = ReviewForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("staff.home") + "#review")
    database = db.session()
    try:
        acknowledge(
            database,
            current_user.actor,
            load_protocol(current_app.config["PROTOCOL"]),
            visit_id,
            (form.note.data or "").strip(),
        )
    except AlreadyAcknowledged:
        database.rollback()
        flash(_("This change has already been acknowledged."), "error")
    except NothingToReview:
        database.rollback()
        abort(404)
    else:
        database.commit()
        flash(_("Review note saved."), "info")
    return redirect(url_for("staff.home") + "#review")
