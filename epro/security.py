"""Security headers on every response, and no caching of anything but the static files."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask.sessions import SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        # Only the static files may be cached. Every other response may carry personal data (pages, PDFs,
        # CSVs, .ics calendars), and a tablet's Back button must never bring a previous patient's page out
        # of the cache.
        response.headers["Cache-Control"] = "no-store"
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def _storable(text: str) -> bool:
    """Text a database keeps as typed: no control characters (NUL cannot even be stored in PostgreSQL)."""
    return not any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in text)


def refuse_control_characters() -> None:
    """A form carrying control characters is refused whole, before any view can store part of it."""
    if request.method in ("POST", "PUT", "PATCH") and not all(
        _storable(value) for values in request.form.listvalues() for value in values
    ):
        abort(400)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.before_request(refuse_control_characters)
    app.after_request(add_security_headers)
