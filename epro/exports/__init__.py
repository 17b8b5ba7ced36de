"""Investigator outputs: study-wide exports (long, SDTM QS, audit trail, data dictionary) as streamed CSV."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Register the exports page, its downloads, its place in the staff menu and the `export` command."""
    from epro.exports import everything  # noqa: F401  (its route registers on the exports blueprint)
    from epro.exports.cli import export_command
    from epro.exports.routes import bp
    from epro.templating import add_nav_link

    app.register_blueprint(bp)
    app.cli.add_command(export_command)
    add_nav_link(app, "exports.index", _l("Exports"))
