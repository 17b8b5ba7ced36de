"""Patient mode on the clinic tablet: language, one item per screen, review, submit, lock."""

from flask import Blueprint, Flask

bp = Blueprint("kiosk", __name__, url_prefix="/tablet")


def init_app(app: Flask) -> None:
    """Register the tablet's pages."""
    from epro.kiosk import routes  # noqa: F401  (its views register on bp)

    app.register_blueprint(bp)
