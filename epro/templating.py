"""Helpers every template can use: the page language, labels for codes and visits, and `can(endpoint)`,
which asks the same `@allow` rules as the request would (a template never restates a role)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import dates as babel_dates
from flask import Flask, current_app
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from epro import db
from epro.access import allowed, current_principal
from epro.codes import (
    LANGUAGE_ENDONYMS,
    PATIENT_STATUS_WORDS,
    ROLE_WORDS,
    SEX_WORDS,
    VISIT_STATUS_WORDS,
    Language,
    Role,
    Sex,
)
from epro.models import Patient, Visit
from epro.schedule import VisitStatus
from epro.visit_labels import visit_label as protocol_visit_label


def role_label(role: str) -> str:
    return _(ROLE_WORDS[Role(role)])


def status_label(status: VisitStatus) -> str:
    return _(VISIT_STATUS_WORDS[status])


def sex_label(sex: str) -> str:
    return _(SEX_WORDS[Sex(sex)])


def patient_status_label(status: str) -> str:
    words = PATIENT_STATUS_WORDS.get(status)
    return _(words) if words else str(status)


def language_label(language: str) -> str:
    return LANGUAGE_ENDONYMS[Language(language)]


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
    if isinstance(value, datetime):  # its clinic date: flask-babel converts to the clinic's time zone
        return format_date(value, DATE_PATTERNS.get(str(get_locale()), DATE_PATTERNS["en"]))
    return _formatted_date(value, str(get_locale()))


@lru_cache(maxsize=4096)
def _formatted_date(value: date, language: str) -> str:
    """A day's text in a language: a list page shows the same few days on many rows (Babel takes about
    a tenth of a millisecond each time)."""
    return babel_dates.format_date(value, DATE_PATTERNS.get(language, DATE_PATTERNS["en"]), locale=language)


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
    """The visit's name in the page language, from the patient's own protocol version (epro.visit_labels)."""
    patient = db.session().get(Patient, visit.patient_id)  # the page has usually loaded it already
    if patient is None or patient.protocol_code is None:
        return visit.code
    return protocol_visit_label(patient.protocol_code, patient.protocol_version, visit.code)(
        str(get_locale())
    )


def can(endpoint: str) -> bool:
    """Whether the current user may reach the endpoint: the view's own `@allow` rule (epro.access)."""
    return allowed(current_app, endpoint, current_principal())


def add_nav_link(app: Flask, endpoint: str, label: object) -> None:
    """Features add their page to the staff menu (label: a lazy string); it shows to whom the page's
    `@allow` admits."""
    app.extensions.setdefault("epro_nav", []).append((endpoint, label))


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
            "can": can,
            "sex_label": sex_label,
            "patient_status_label": patient_status_label,
            "language_label": language_label,
            "extra_nav": app.extensions["epro_nav"],
        }
