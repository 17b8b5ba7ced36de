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


def init_app(app: Flask) -> None:
    @app.context_processor
    def helpers() -> dict[str, object]:
        return {
            "html_lang": str(get_locale()),
            "role_label": role_label,
            "status_badge": status_badge,
            "visit_label": visit_label,
        }
