"""Who may reach which route. Deny by default: a view without an explicit rule is refused to everyone.

Principals: "anonymous", "patient" (a tablet in patient mode), and the staff roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from epro.questionnaires.patient_mode import in_patient_mode

PRINCIPALS = ("anonymous", "patient", "nurse", "investigator", "admin")
STAFF = ("nurse", "investigator", "admin")
EVERYONE = PRINCIPALS
#: Where @allow keeps a view's principals.
ALLOW_ATTRIBUTE = "_epro_allow"

F = TypeVar("F", bound=Callable[..., object])


def allow(*principals: str) -> Callable[[F], F]:
    unknown = set(principals) - set(PRINCIPALS)
    if unknown:
        raise ValueError(f"unknown principals: {unknown}")

    def mark(view: F) -> F:
        setattr(view, ALLOW_ATTRIBUTE, frozenset(principals))
        return view

    return mark


def current_principal() -> str:
    if in_patient_mode():
        return "patient"
    if current_user.is_authenticated:
        return current_user.role
    return "anonymous"


def allowed(app: Flask, endpoint: str | None, principal: str) -> bool:
    if endpoint == "static":
        return True
    view = app.view_functions.get(endpoint or "")
    return principal in getattr(view, ALLOW_ATTRIBUTE, frozenset())


def init_app(app: Flask) -> None:
    @app.before_request
    def enforce_access() -> ResponseReturnValue | None:
        if request.endpoint is None:
            return None  # 404/405: let Flask answer
        principal = current_principal()
        if allowed(app, request.endpoint, principal):
            return None
        if principal == "patient":
            return redirect(url_for("kiosk.resume"))
        if principal == "anonymous":
            if (request.endpoint or "").startswith("kiosk."):
                return redirect(url_for("kiosk.locked"))
            if request.method == "GET":
                return redirect(url_for("staff.login", next=request.path))
            abort(401)
        abort(403)
