"""Staff sessions: an idle timeout with a clear message (the brake on failed sign-ins: epro.staff.throttle)."""

from __future__ import annotations

from flask import Flask, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from epro.questionnaires.patient_mode import in_patient_mode
from epro.staff import sessions


def enforce_idle_timeout() -> ResponseReturnValue | None:
    if in_patient_mode() or not current_user.is_authenticated:  # a tablet in patient mode has no staff
        return None
    if sessions.idle_too_long():
        logout_user()
        session.clear()
        flash(_("Your session expired after a period without activity. Please sign in again."), "error")
        if request.method == "GET":
            return redirect(url_for("staff.login", next=request.path))
        return redirect(url_for("staff.login"))
    sessions.touch()
    return None


def init_app(app: Flask) -> None:
    app.before_request(enforce_idle_timeout)
