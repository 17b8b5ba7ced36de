"""Every error a person can meet is a translated page with the right status, never a stack trace."""

from __future__ import annotations

from flask import Flask, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Nothing was saved."),
        401: _("Please sign in first."),
        403: _("You do not have permission to open this page."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        409: _("This was already done. Nothing was changed."),
        413: _("What was sent is too large. Nothing was saved."),
        429: _("Too many attempts. Please wait a minute and try again."),
    }


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    text = message or _messages().get(status) or _("Something went wrong. Nothing was saved.")
    return render_template("errors/error.html", status=status, message=text), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> ResponseReturnValue:
        return render_error(
            400,
            _("This form has expired or did not come from this site. Nothing was saved; please try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        return render_error(error.code or 500)

    @app.errorhandler(PoolTimeout)
    def busy(_error: PoolTimeout) -> ResponseReturnValue:
        """Every database connection is in use: say so at once; the next request may well succeed."""
        # The page must not ask the database again for the signed-in user: it would wait once more.
        g._login_user = AnonymousUserMixin()  # what Flask-Login's manager makes: we set no other class
        app.logger.warning("database pool exhausted: 503")
        body, status = render_error(
            503, _("The server is busy right now. Nothing was saved; please try again in a moment.")
        )
        return body, status, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> ResponseReturnValue:
        app.logger.exception("unhandled error")
        return render_error(500)
