"""Certified copies: the PDF's certification (identifier, signature state, attached data) and the
per-patient bundle with its SHA-256 manifest (`flask bundle`, and a download for investigators)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from epro.certified.cli import bundle_command
    from epro.certified.routes import bp

    app.register_blueprint(bp)
    app.cli.add_command(bundle_command)
