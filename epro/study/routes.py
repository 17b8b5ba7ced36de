"""The study overview page: read by every staff role; investigators land here after signing in."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import get_locale

from epro import db
from epro.access import allow
from epro.clock import clinic_today
from epro.reports.view import ReportView
from epro.study import READERS, overview_for
from epro.study.compute import matrix_rows
from epro.study.view import HELPERS

bp = Blueprint("study", __name__, url_prefix="/study")

#: Patients per page of the completion matrix.
MATRIX_PAGE = 50


@bp.route("/")
@allow(*READERS)
def overview():  # type: ignore[no-untyped-def]
    database = db.session()
    data = overview_for(database)
    pages = max(1, -(-data.patients // MATRIX_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = matrix_rows(
        database, data.visits, clinic_today(), offset=(page - 1) * MATRIX_PAGE, limit=MATRIX_PAGE
    )
    return render_template(
        "study/overview.html",
        overview=data,
        view=ReportView.for_edition(str(get_locale())),
        matrix=rows,
        page=page,
        pages=pages,
        **HELPERS,
    )
