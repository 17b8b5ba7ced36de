"""The nurse's clinic list and handing the tablet to a patient."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from epro import db
from epro.access import STAFF, allow
from epro.clock import clinic_today
from epro.kiosk.operations import SessionUnavailable, open_tablet_session
from epro.kiosk.state import enter_patient_mode
from epro.models import Visit
from epro.schedule import VisitStatus
from epro.staff import bp
from epro.staff.forms import EmptyForm
from epro.visits import visit_rows


@bp.route("/")
@allow(*STAFF)
def home():  # type: ignore[no-untyped-def]
    today = clinic_today()
    rows = visit_rows(db.session(), today, window_from=today, window_to=today)
    due = [r for r in rows if r.status == VisitStatus.DUE]
    return render_template("staff/home.html", due=due, today=today, form=EmptyForm())


@bp.route("/visits/<int:visit_id>/tablet", methods=["POST"])
@allow("nurse")
def start_tablet(visit_id: int):  # type: ignore[no-untyped-def]
    """Start (or resume) the visit's questionnaire session and put this browser into patient mode."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    database = db.session()
    visit = database.get(Visit, visit_id)
    if visit is None:
        abort(404)
    try:
        questionnaire = open_tablet_session(database, visit, current_user.actor)
    except SessionUnavailable:
        flash(_("The questionnaires for this visit have already been submitted."), "error")
        return redirect(url_for("staff.home"))
    database.commit()
    logout_user()
    session.clear()
    enter_patient_mode(questionnaire)
    return redirect(url_for("kiosk.resume"))
