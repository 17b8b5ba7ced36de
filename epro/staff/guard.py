"""Staff sessions: an idle timeout with a clear message, and a brake on repeated failed sign-ins."""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def signin_failed(response) -> bool:  # type: ignore[no-untyped-def]
    """Only failed sign-ins count against the limit."""
    return response.status_code == 401


def enforce_idle_timeout():  # type: ignore[no-untyped-def]
    if "kiosk" in session or not current_user.is_authenticated:  # a tablet in patient mode has no staff
        return None
    now = time.time()
    seen = session.get("staff_seen", now)
    if now - seen > 60 * current_app.config["STAFF_IDLE_MINUTES"]:
        logout_user()
        session.clear()
        flash(_("Your session expired after a period without activity. Please sign in again."), "error")
        if request.method == "GET":
            return redirect(url_for("staff.login", next=request.path))
        return redirect(url_for("staff.login"))
    session["staff_seen"] = now
    return None


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # Counted per worker by default; point RATELIMIT_STORAGE_URI (e.g. redis://) at a shared store to count
    # across workers and servers.
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    app.before_request(enforce_idle_timeout)
