"""The staff workspace: sign-in, the clinic list, starting a tablet session."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from epro.staff import admin, auth, patients, routes, visit_views  # noqa: E402,F401  (routes register on bp)
