"""The study report: the overview as a printable PDF (WeasyPrint, through epro.reports.render)."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlmodel import Session

from epro.clock import clinic_today
from epro.reports.view import ReportView
from epro.study.compute import matrix_rows
from epro.study.overview import StudyOverview
from epro.study.view import HELPERS

#: The report lists every patient's visits only for a study this small; larger ones get the counts.
MATRIX_IN_REPORT = 40


def render_report_html(db: Session, overview: StudyOverview, edition: str) -> str:
    view = ReportView.for_edition(edition, printed=True)
    matrix = (
        matrix_rows(db, overview.visits, clinic_today(), limit=MATRIX_IN_REPORT)
        if overview.patients <= MATRIX_IN_REPORT
        else []
    )
    with force_locale(view.html_lang):
        return render_template(
            "study/report.html",
            overview=overview,
            view=view,
            matrix=matrix,
            matrix_limit=MATRIX_IN_REPORT,
            _=view.gettext,
            **HELPERS,
        )


def render_report_pdf(db: Session, overview: StudyOverview, edition: str) -> bytes:
    from epro.reports.render import html_to_pdf  # WeasyPrint loads only where PDFs are made

    return html_to_pdf(render_report_html(db, overview, edition))
