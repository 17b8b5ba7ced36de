"""Staff sign-in and sign-out. Signing in from a locked tablet is also how patient mode is left."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlmodel import select

from epro import db
from epro.access import STAFF, allow
from epro.audit import Actor, record
from epro.codes import ActorType
from epro.models import StaffUser
from epro.passwords import verify_password
from epro.staff import bp, sessions, throttle
from epro.staff.forms import EmptyForm, SignInForm
from epro.staff.identity import StaffIdentity
from epro.staff.operations import update_staff_field


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target  # browsers read /\host as //host
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("index")  # each role's own home page (investigators: the study overview)


@bp.route("/login", methods=["GET", "POST"])
@allow("anonymous", *STAFF)
def login() -> ResponseReturnValue:
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("staff/login.html", form=form), 200
    account = throttle.account_key(form.username.data)
    address = request.remote_addr or ""
    database = db.session()
    wait = throttle.wait_before(database, account, address)
    user = database.exec(select(StaffUser).where(StaffUser.username == form.username.data)).first()
    if user is not None:
        database.expunge(user)
    database.rollback()  # release SQLite's write lock: the Argon2 check below takes hundreds of ms
    if wait is not None:
        return _refused(form, wait)
    # Unknown and deactivated accounts verify a dummy hash: the answer takes as long as for a real one.
    real_hash = user.password_hash if user is not None and user.is_active else None
    if verify_password(real_hash, form.password.data or ""):
        assert user is not None
        throttle.clear_account(database, account)
        session.clear()  # a fresh session at sign-in: nothing of a previous user or patient survives
        session.permanent = True
        sessions.begin(user)
        identity = StaffIdentity.of(user)
        login_user(identity)
        record(database, identity.actor, "auth.sign_in", "staff_user", user.id)
        database.commit()
        return redirect(_safe_next(request.args.get("next")))
    attempted = Actor(ActorType.ANONYMOUS, None, (form.username.data or "")[:64])
    record(database, attempted, "auth.sign_in_failed", "staff_user", user.id if user else None)
    if throttle.record_failure(database, account, address):
        record(database, attempted, "auth.account_locked", "staff_user", user.id if user else None)
    database.commit()
    flash(_("The user name or password is not correct."), "error")
    return render_template("staff/login.html", form=form), 401


def _refused(form: SignInForm, wait: throttle.Wait) -> Response:
    """A sign-in that must wait: said plainly, with how long; nothing is checked or counted."""
    if wait.locked:
        minutes = (wait.seconds + 59) // 60
        message = _(
            "After too many failed attempts, this account is locked for %(minutes)s more minutes. "
            "Ask an admin to reset the password, or try again later.",
            minutes=minutes,
        )
    else:
        message = _(
            "Too many failed attempts. Please wait %(seconds)s seconds and try again.", seconds=wait.seconds
        )
    flash(message, "error")
    response = make_response(render_template("staff/login.html", form=form), 429)
    response.headers["Retry-After"] = str(wait.seconds)
    return response


@bp.route("/logout", methods=["POST"])
@allow(*STAFF)
def logout() -> ResponseReturnValue:
    """Signing out ends every session of the account, including copies of this cookie elsewhere."""
    form = EmptyForm()
    if form.validate_on_submit():
        database = db.session()
        user = database.get(StaffUser, current_user.id)
        assert user is not None
        sessions.end_every_session(database, user)
        record(database, current_user.actor, "auth.sign_out", "staff_user", user.id)
        database.commit()
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("staff.login"))


@bp.route("/language", methods=["POST"])
@allow("anonymous", *STAFF)
def set_language() -> ResponseReturnValue:
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
