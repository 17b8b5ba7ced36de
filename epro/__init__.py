"""epro: patient-reported outcomes for clinical trials, on clinic tablets, in Korean and English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def _trust_proxy(app: Flask) -> None:
    """Behind a reverse proxy, read the client's address and scheme from as many X-Forwarded-* hops as
    configured (EPRO_PROXY_FIX_X_FOR=1 ...), so sign-in throttling and Secure cookies see the real client."""
    hops = {key: int(app.config.get(f"PROXY_FIX_X_{key.upper()}", 0)) for key in ("for", "proto", "host")}
    if any(hops.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Werkzeug's documented way to add middleware; mypy sees wsgi_app as a method, not an attribute.
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
    from epro import (
        access,
        audit,
        certified,
        cli,
        clinical,
        db,
        errors,
        exports,
        followup,
        i18n,
        kiosk,
        reports,
        security,
        signatures,
        staff,
        study,
        templating,
    )
    from epro.config import load_config

    load_config(app, test_config)
    _trust_proxy(app)
    if app.config.get("ENV_NAME") == "production" and app.debug:
        raise RuntimeError("debug must never be on in production")

    db.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    # Each feature wires itself in: its blueprint, CLI commands, menu entry (in this order in the menu).
    for feature in (kiosk, staff, followup, reports, clinical, exports, signatures, certified, study, audit):
        feature.init_app(app)
    access.init_app(app)
    cli.init_app(app)

    @app.route("/")
    @access.allow(*access.EVERYONE)
    def index() -> ResponseReturnValue:
        principal = access.current_principal()
        if principal == "patient":
            return redirect(url_for("kiosk.resume"))
        if principal == "anonymous":
            return redirect(url_for("staff.login"))
        if principal == "investigator":
            return redirect(url_for("study.overview"))
        return redirect(url_for("staff.home"))

    return app
