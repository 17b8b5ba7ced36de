"""Helpers every template can use: the page language, and labels for roles, statuses and visits."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from epro.models import Visit
from epro.schedule import VisitStatus, load_protocol


def role_label(role: str) -> str:
    return {"nurse": _("Nurse"), "investigator": _("Investigator"), "admin": _("Admin")}.get(role, role)


def status_label(status: VisitStatus) -> str:
    return {
        VisitStatus.UPCOMING: _("Upcoming"),
        VisitStatus.DUE: _("Due"),
        VisitStatus.COMPLETED: _("Completed"),
        VisitStatus.OVERDUE: _("Overdue"),
        VisitStatus.MISSED: _("Missed"),
        VisitStatus.CANCELLED: _("Cancelled (withdrawn)"),
    }[status]


def sex_label(sex: str) -> str:
    return {"M": _("Male"), "F": _("Female")}.get(sex, sex)


def patient_status_label(status: str) -> str:
    return {
        "not_enrolled": _("Not enrolled"),
        "active": _("In follow-up"),
        "overdue": _("Has overdue visits"),
        "finished": _("Follow-up finished"),
        "withdrawn": _("Withdrawn"),
    }.get(str(status), str(status))


def language_label(language: str) -> str:
    return {"ko": "한국어", "en": "English"}.get(language, language)


STATUS_SYMBOLS = {
    VisitStatus.UPCOMING: "○",
    VisitStatus.DUE: "●",
    VisitStatus.COMPLETED: "✓",
    VisitStatus.OVERDUE: "!",
    VisitStatus.MISSED: "×",
    VisitStatus.CANCELLED: "–",
}


def status_badge(status: VisitStatus) -> Markup:
    """A status is carried by its word and a symbol, never by colour alone."""
    symbol = STATUS_SYMBOLS[status]
    return Markup(
        f'<span class="badge badge-{status.value}"><span aria-hidden="true">{symbol}</span> '
        f"{escape(status_label(status))}</span>"
    )


#: One date format per language, everywhere on screen: ISO-like in Korean (what Korean forms and EMRs use),
#: day, short month, four-digit year in English (never 11/24/26, which reads differently by country).
DATE_PATTERNS = {"ko": "yyyy-MM-dd", "en": "d MMM yyyy"}
MOMENT_PATTERNS = {"ko": "yyyy-MM-dd HH:mm", "en": "d MMM yyyy, HH:mm"}


def date_text(value: date | None) -> str:
    """The date in the page language's one format (plain text, e.g. for a message)."""
    if value is None:
        return "—"
    return format_date(value, DATE_PATTERNS.get(str(get_locale()), DATE_PATTERNS["en"]))


def date_filter(value: date | datetime | None) -> Markup:
    """`{{ day|date }}`: the date as a <time> that never breaks across lines; a datetime shows its clinic
    date and time (flask-babel converts to the clinic's time zone)."""
    if value is None:
        return Markup("—")
    if isinstance(value, datetime):
        text = format_datetime(value, MOMENT_PATTERNS.get(str(get_locale()), MOMENT_PATTERNS["en"]))
        return Markup(f'<time class="date" datetime="{value.isoformat()}">{escape(text)}</time>')
    return Markup(f'<time class="date" datetime="{value.isoformat()}">{escape(date_text(value))}</time>')


def visit_label(visit: Visit) -> str:
    protocol = load_protocol(current_app.config["PROTOCOL"])
    try:
        return protocol.visit(visit.code).label(str(get_locale()))
    except StopIteration:
        return visit.code


def add_nav_link(app: Flask, endpoint: str, label: object, roles: tuple[str, ...]) -> None:
    """Features add their page to the staff menu (label: a lazy string)."""
    app.extensions.setdefault("epro_nav", []).append((endpoint, label, roles))


def init_app(app: Flask) -> None:
    app.extensions.setdefault("epro_nav", [])
    app.add_template_filter(date_filter, "date")

    @app.context_processor
    def helpers() -> dict[str, object]:
        return {
            "html_lang": str(get_locale()),
            "role_label": role_label,
            "status_badge": status_badge,
            "visit_label": visit_label,
            "sex_label": sex_label,
            "patient_status_label": patient_status_label,
            "language_label": language_label,
            "extra_nav": app.extensions["epro_nav"],
        }
