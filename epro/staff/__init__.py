"""The staff workspace: sign-in, the clinic list, patients and visits, staff accounts."""

from flask import Blueprint, Flask

bp = Blueprint("staff", __name__, url_prefix="/staff")


def init_app(app: Flask) -> None:
    """Register the staff pages, the sign-in (Flask-Login) and the idle timeout."""
    from epro.staff import admin, auth, guard, patients, routes, visit_views  # noqa: F401  (views register on bp)
    from epro.staff.identity import login_manager

    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    # Sessions are ended server side (epro.staff.sessions), not by Flask-Login guessing from the client.
    login_manager.session_protection = None
    guard.init_app(app)
    app.register_blueprint(bp)
