"""Staff accounts, for admins. Accounts are never deleted, so the audit trail keeps their names."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, select

from epro import db
from epro.access import allow
from epro.models import StaffUser
from epro.registry import create_staff_user
from epro.staff import bp, operations, sessions, throttle
from epro.staff.forms import EmptyForm, FullNameForm, NewUserForm, PasswordResetForm, RoleForm


def get_user(user_id: int) -> StaffUser:
    user = db.session().get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/admin/users", methods=["GET", "POST"])
@allow("admin")
def users():  # type: ignore[no-untyped-def]
    database = db.session()
    form = NewUserForm()
    if form.validate_on_submit():
        if database.exec(select(StaffUser).where(StaffUser.username == form.username.data)).first():
            form.username.errors.append(_("This user name is taken."))
        else:
            create_staff_user(
                database,
                current_user.actor,
                username=form.username.data,
                password=form.password.data,
                role=form.role.data,
                preferred_language=form.preferred_language.data,
                full_name=form.full_name.data,
            )
            database.commit()
            flash(_("Account %(name)s created.", name=form.username.data), "info")
            return redirect(url_for("staff.users"))
    accounts = database.exec(select(StaffUser).order_by(col(StaffUser.username))).all()
    locked = throttle.locked_accounts(database)
    return render_template(
        "staff/users.html", accounts=accounts, form=form, locked=locked, account_key=throttle.account_key
    ), 400 if form.errors else 200


@bp.route("/admin/users/<int:user_id>", methods=["GET"])
@allow("admin")
def user(user_id: int):  # type: ignore[no-untyped-def]
    account = get_user(user_id)
    return render_template(
        "staff/user.html",
        account=account,
        role_form=RoleForm(role=account.role),
        name_form=FullNameForm(full_name=account.full_name),
        password_form=PasswordResetForm(),
        form=EmptyForm(),
    )


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@allow("admin")
def user_role(user_id: int):  # type: ignore[no-untyped-def]
    account = get_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    if account.id == current_user.id and form.role.data != "admin":
        flash(_("You cannot take the admin role away from yourself."), "error")
        return redirect(url_for("staff.user", user_id=account.id))
    database = db.session()
    if account.role != form.role.data:
        operations.update_staff_field(database, current_user.actor, account, "role", form.role.data)
        sessions.end_every_session(database, account)  # the new role applies from a fresh sign-in
    database.commit()
    flash(_("Role saved."), "info")
    return redirect(url_for("staff.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/full-name", methods=["POST"])
@allow("admin")
def user_full_name(user_id: int):  # type: ignore[no-untyped-def]
    """The printed name shown with the person's e-signatures (past signatures keep the name they had)."""
    account = get_user(user_id)
    form = FullNameForm()
    if not form.validate_on_submit():
        for error in form.full_name.errors:
            flash(error, "error")
        return redirect(url_for("staff.user", user_id=account.id))
    database = db.session()
    operations.update_staff_field(database, current_user.actor, account, "full_name", form.full_name.data)
    database.commit()
    flash(_("Printed name saved."), "info")
    return redirect(url_for("staff.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@allow("admin")
def user_active(user_id: int):  # type: ignore[no-untyped-def]
    account = get_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if account.id == current_user.id:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("staff.user", user_id=account.id))
    database = db.session()
    operations.update_staff_field(database, current_user.actor, account, "is_active", not account.is_active)
    sessions.end_every_session(database, account)
    database.commit()
    flash(_("Account reactivated.") if account.is_active else _("Account deactivated."), "info")
    return redirect(url_for("staff.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@allow("admin")
def user_password(user_id: int):  # type: ignore[no-untyped-def]
    account = get_user(user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        for error in form.password.errors:
            flash(error, "error")
        return redirect(url_for("staff.user", user_id=account.id))
    database = db.session()
    operations.reset_password(database, current_user.actor, account, form.password.data)
    sessions.end_every_session(database, account)
    throttle.clear_account(database, throttle.account_key(account.username))  # also lifts a lock
    database.commit()
    flash(_("Password reset. Give the new password to %(name)s in person.", name=account.username), "info")
    return redirect(url_for("staff.user", user_id=account.id))
