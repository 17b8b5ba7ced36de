"""The nurse's clinic list and handing the tablet to a patient."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from epro import db
from epro.access import STAFF, allow
from epro.clock import clinic_today
from epro.models import Patient, Visit
from epro.questionnaires.errors import AlreadySubmitted
from epro.questionnaires.patient_mode import enter_patient_mode
from epro.questionnaires.sessions import open_tablet_session
from epro.schedule import load_protocol
from epro.staff import bp
from epro.staff.clinic import clinic_list
from epro.staff.forms import EmptyForm
from epro.study.review import ReviewForm


@bp.route("/")
@allow(*STAFF)
def home() -> ResponseReturnValue:
    protocol = load_protocol(current_app.config["PROTOCOL"])
    return render_template(
        "staff/home.html",
        clinic=clinic_list(db.session(), clinic_today(), protocol),
        form=EmptyForm(),
        review_form=ReviewForm(),
    )


@bp.route("/visits/<int:visit_id>/tablet", methods=["POST"])
@allow("nurse")
def start_tablet(visit_id: int) -> ResponseReturnValue:
    """Start (or resume) the visit's questionnaire session and put this browser into patient mode.

    A visit outside its window can still be done (it is flagged as a deviation, not blocked)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    database = db.session()
    visit = database.get(Visit, visit_id)
    if visit is None:
        abort(404)
    patient = database.get(Patient, visit.patient_id)
    if patient is not None and patient.withdrawn_on is not None:
        flash(_("This patient has been withdrawn from the study."), "error")
        return redirect(url_for("staff.visit", visit_id=visit.id))
    if visit.missed_at is not None:
        flash(_("This visit is marked as missed."), "error")
        return redirect(url_for("staff.visit", visit_id=visit.id))
    try:
        questionnaire = open_tablet_session(database, visit, current_user.actor)
    except AlreadySubmitted:
        flash(_("The questionnaires for this visit have already been submitted."), "error")
        return redirect(url_for("staff.visit", visit_id=visit.id))
    database.commit()
    logout_user()
    session.clear()
    enter_patient_mode(questionnaire)
    return redirect(url_for("kiosk.resume"))
