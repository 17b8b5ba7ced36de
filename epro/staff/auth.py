"""Staff sign-in and sign-out. Signing in from a locked tablet is also how patient mode is left."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlmodel import select

from epro import db
from epro.access import STAFF, allow
from epro.audit import Actor, record
from epro.models import StaffUser
from epro.passwords import verify_password
from epro.staff import bp
from epro.staff.forms import EmptyForm, SignInForm
from epro.staff.guard import limiter, signin_failed
from epro.staff.identity import StaffIdentity
from epro.staff.operations import update_staff_field


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("index")  # each role's own home page (investigators: the study overview)


@bp.route("/login", methods=["GET", "POST"])
@allow("anonymous", *STAFF)
@limiter.limit(lambda: current_app.config["SIGNIN_LIMIT"], methods=["POST"], deduct_when=signin_failed)
def login():  # type: ignore[no-untyped-def]
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        database = db.session()
        user = database.exec(select(StaffUser).where(StaffUser.username == form.username.data)).first()
        if user is not None:
            database.expunge(user)
        database.rollback()  # release SQLite's write lock: the Argon2 check below takes hundreds of ms
        if (
            user is not None
            and user.is_active
            and verify_password(user.password_hash, form.password.data or "")
        ):
            session.clear()  # a fresh session at sign-in: nothing of a previous user or patient survives
            session.permanent = True
            identity = StaffIdentity.of(user)
            login_user(identity)
            record(database, identity.actor, "auth.sign_in", "staff_user", user.id)
            database.commit()
            return redirect(_safe_next(request.args.get("next")))
        record(
            database,
            Actor("anonymous", None, (form.username.data or "")[:64]),
            "auth.sign_in_failed",
            "staff_user",
            user.id if user else None,
        )
        database.commit()
        flash(_("The user name or password is not correct."), "error")
        status = 401
    return render_template("staff/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@allow(*STAFF)
def logout():  # type: ignore[no-untyped-def]
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("staff.login"))


@bp.route("/language", methods=["POST"])
@allow("anonymous", *STAFF)
def set_language():  # type: ignore[no-untyped-def]
    """Switch the interface language; for staff it becomes their saved preference."""
    chosen = request.form.get("language")
    if chosen not in current_app.config["LANGUAGES"]:
        abort(400)
    session["language"] = chosen
    if current_user.is_authenticated and current_user.preferred_language != chosen:
        database = db.session()
        user = database.get(StaffUser, current_user.id)
        assert user is not None
        update_staff_field(database, current_user.actor, user, "preferred_language", chosen)
        database.commit()
        login_user(StaffIdentity.of(user))
    return redirect(_safe_next(request.referrer and urlsplit(request.referrer).path))
