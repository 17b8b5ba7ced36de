"""Investigator outputs: study-wide exports (long, SDTM QS, audit trail, data dictionary) as streamed CSV."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the exports page, its downloads and the `export` command."""
    from epro.exports.cli import export_command
    from epro.exports.routes import bp

    app.register_blueprint(bp)
    app.cli.add_command(export_command)
