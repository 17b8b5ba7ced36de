"""Staff accounts, for admins. Accounts are never deleted, so the audit trail keeps their names."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select

from epro import db
from epro.access import allow
from epro.models import StaffUser
from epro.registry import create_staff_user
from epro.staff import bp, operations, sessions, throttle
from epro.staff.form_page import CONFLICT, add_error, form_page
from epro.staff.forms import (
    EmptyForm,
    FullNameForm,
    NewUserForm,
    PasswordResetForm,
    RoleForm,
    entered,
)


def get_user(user_id: int) -> StaffUser:
    user = db.session().get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/admin/users", methods=["GET", "POST"])
@allow("admin")
def users() -> ResponseReturnValue:
    database = db.session()
    form = NewUserForm()
    if form.validate_on_submit():
        if database.exec(select(StaffUser).where(StaffUser.username == form.username.data)).first():
            add_error(form, _("This user name is taken."), "username")
        else:
            create_staff_user(
                database,
                current_user.actor,
                username=entered(form.username),
                password=entered(form.password),
                role=form.role.data,
                preferred_language=form.preferred_language.data,
                full_name=form.full_name.data,
            )
            database.commit()
            flash(_("Account %(name)s created.", name=form.username.data), "info")
            return redirect(url_for("staff.users"))
    accounts = database.exec(select(StaffUser).order_by(col(StaffUser.username))).all()
    locked = throttle.locked_accounts(database)
    return form_page(
        "staff/users.html", accounts=accounts, form=form, locked=locked, account_key=throttle.account_key
    )


def user_page(account: StaffUser, *, status: int | None = None, **forms: FlaskForm) -> tuple[str, int]:
    """The account page; a bound form passed in (with its errors) replaces the blank one."""
    blank: dict[str, FlaskForm] = {
        "role_form": RoleForm(formdata=None, role=account.role),
        "name_form": FullNameForm(formdata=None, full_name=account.full_name),
        "password_form": PasswordResetForm(formdata=None),
        "form": EmptyForm(formdata=None),
    }
    return form_page("staff/user.html", status=status, account=account, **(blank | forms))


@bp.route("/admin/users/<int:user_id>", methods=["GET"])
@allow("admin")
def user(user_id: int) -> ResponseReturnValue:
    return user_page(get_user(user_id))


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@allow("admin")
def user_role(user_id: int) -> ResponseReturnValue:
    account = get_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return user_page(account, role_form=form)
    if account.id == current_user.id and form.role.data != "admin":
        add_error(form, _("You cannot take the admin role away from yourself."), "role")
        return user_page(account, status=CONFLICT, role_form=form)
    database = db.session()
    if account.role != form.role.data:
        operations.update_staff_field(database, current_user.actor, account, "role", form.role.data)
        sessions.end_every_session(database, account)  # the new role applies from a fresh sign-in
    database.commit()
    flash(_("Role saved."), "info")
    return redirect(url_for("staff.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/full-name", methods=["POST"])
@allow("admin")
def user_full_name(user_id: int) -> ResponseReturnValue:
    """The printed name shown with the person's e-signatures (past signatures keep the name they had)."""
    account = get_user(user_id)
    form = FullNameForm()
    if not form.validate_on_submit():
        return user_page(account, name_form=form)
    database = db.session()
    operations.update_staff_field(database, current_user.actor, account, "full_name", form.full_name.data)
    database.commit()
    flash(_("Printed name saved."), "info")
    return redirect(url_for("staff.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@allow("admin")
def user_active(user_id: int) -> ResponseReturnValue:
    account = get_user(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if account.id == current_user.id:
        add_error(form, _("You cannot deactivate your own account."))
        return user_page(account, status=CONFLICT, form=form)
    database = db.session()
    operations.update_staff_field(database, current_user.actor, account, "is_active", not account.is_active)
    sessions.end_every_session(database, account)
    database.commit()
    flash(_("Account reactivated.") if account.is_active else _("Account deactivated."), "info")
    return redirect(url_for("staff.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@allow("admin")
def user_password(user_id: int) -> ResponseReturnValue:
    account = get_user(user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return user_page(account, password_form=form)
    database = db.session()
    operations.reset_password(database, current_user.actor, account, entered(form.password))
    sessions.end_every_session(database, account)
    throttle.clear_account(database, throttle.account_key(account.username))  # also lifts a lock
    database.commit()
    flash(_("Password reset. Give the new password to %(name)s in person.", name=account.username), "info")
    return redirect(url_for("staff.user", user_id=account.id))
