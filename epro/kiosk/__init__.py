"""Patient mode on the clinic tablet: language, one item per screen, review, submit, lock."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/tablet")

from epro.kiosk import routes  # noqa: E402,F401  (routes register on bp)
