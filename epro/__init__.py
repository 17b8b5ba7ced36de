"""epro: patient-reported outcomes for clinical trials, on clinic tablets, in Korean and English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for
from flask_wtf.csrf import CSRFProtect

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def _trust_proxy(app: Flask) -> None:
    """Behind a reverse proxy, read the client's address and scheme from as many X-Forwarded-* hops as
    configured (EPRO_PROXY_FIX_X_FOR=1 ...), so sign-in throttling and Secure cookies see the real client."""
    hops = {key: int(app.config.get(f"PROXY_FIX_X_{key.upper()}", 0)) for key in ("for", "proto", "host")}
    if any(hops.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops["for"], x_proto=hops["proto"], x_host=hops["host"]
        )


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from epro import access, db, errors, i18n, security, templating
    from epro.config import load_config

    load_config(app, test_config)
    _trust_proxy(app)
    if app.config.get("ENV_NAME") == "production" and app.debug:
        raise RuntimeError("debug must never be on in production")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")

    db.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from epro.staff import guard as staff_guard
    from epro.staff.identity import login_manager

    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    # Sessions are ended server side (epro.staff.sessions), not by Flask-Login guessing from the client.
    login_manager.session_protection = None
    staff_guard.init_app(app)

    from epro import certified, clinical, exports, followup, reports, signatures, study
    from epro.audit import views as audit_views
    from epro.kiosk import bp as kiosk_bp
    from epro.staff import bp as staff_bp

    app.register_blueprint(kiosk_bp)
    app.register_blueprint(staff_bp)
    followup.init_app(app)
    reports.init_app(app)
    clinical.init_app(app)
    exports.init_app(app)
    signatures.init_app(app)
    certified.init_app(app)
    study.init_app(app)
    audit_views.init_app(app)
    access.init_app(app)

    @app.route("/")
    @access.allow(*access.EVERYONE)
    def index():  # type: ignore[no-untyped-def]
        principal = access.current_principal()
        if principal == "patient":
            return redirect(url_for("kiosk.resume"))
        if principal == "anonymous":
            return redirect(url_for("staff.login"))
        if principal == "investigator":
            return redirect(url_for("study.overview"))
        return redirect(url_for("staff.home"))

    from epro import cli

    cli.init_app(app)
    return app
