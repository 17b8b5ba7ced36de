"""Helpers every template can use: the page language, and labels for roles, statuses and visits."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import get_locale
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
    }[status]


def sex_label(sex: str) -> str:
    return {"M": _("Male"), "F": _("Female")}.get(sex, sex)


def patient_status_label(status: str) -> str:
    return {
        "not_enrolled": _("Not enrolled"),
        "active": _("In follow-up"),
        "overdue": _("Has overdue visits"),
        "finished": _("Follow-up finished"),
    }.get(str(status), str(status))


def language_label(language: str) -> str:
    return {"ko": "한국어", "en": "English"}.get(language, language)


STATUS_SYMBOLS = {
    VisitStatus.UPCOMING: "○",
    VisitStatus.DUE: "●",
    VisitStatus.COMPLETED: "✓",
    VisitStatus.OVERDUE: "!",
    VisitStatus.MISSED: "×",
}


def status_badge(status: VisitStatus) -> Markup:
    """A status is carried by its word and a symbol, never by colour alone."""
    symbol = STATUS_SYMBOLS[status]
    return Markup(
        f'<span class="badge badge-{status.value}"><span aria-hidden="true">{symbol}</span> '
        f"{escape(status_label(status))}</span>"
    )


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
