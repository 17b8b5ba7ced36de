"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`. Debug is never on here."""

from epro import create_app

app = create_app()
if app.debug:
    raise RuntimeError("epro refuses to serve with debug on: unset EPRO_DEBUG / FLASK_DEBUG")
