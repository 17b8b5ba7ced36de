"""Correcting day 0 (preview of what moves, then confirm) and withdrawing a patient, on the staff pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from epro import db
from epro.access import allow
from epro.clock import clinic_today
from epro.followup import changes
from epro.schedule import load_protocol
from epro.staff.form_page import CONFLICT, add_error, form_page
from epro.staff.forms import DayZeroCorrectionForm, WithdrawalForm, entered
from epro.staff.patients import day0_problem, get_patient
from epro.templating import date_text
from epro.visits import visit_rows

bp = Blueprint("followup", __name__, url_prefix="/staff")


@bp.route("/patients/<int:patient_id>/day0", methods=["GET", "POST"])
@allow("nurse")
def correct_day0(patient_id: int) -> ResponseReturnValue:
    """First post: check the date and list every visit whose dates or status change. Second post (with
    `confirmed`): apply, audited. Completed visits keep their dates."""
    patient = get_patient(patient_id)
    form = DayZeroCorrectionForm()
    if request_is_get := not form.is_submitted():
        form.procedure_date.data = patient.procedure_date
    page: dict[str, Any] = {"patient": patient, "form": form, "moves": None}
    if patient.procedure_date is None:
        add_error(form, _("Enter the procedure date first."))
        return form_page("followup/day0.html", status=CONFLICT, **page)
    if request_is_get or not form.validate_on_submit():
        return form_page("followup/day0.html", **page)
    day0 = entered(form.procedure_date)
    if day0 == patient.procedure_date:
        add_error(form, _("This is the procedure date already recorded."), "procedure_date")
        return form_page("followup/day0.html", **page)
    if day0_problem(form, day0, bool(form.confirm_far.data)):
        return form_page("followup/day0.html", **page)
    database = db.session()
    today = clinic_today()
    protocol = load_protocol(
        patient.protocol_code or current_app.config["PROTOCOL"], patient.protocol_version
    )
    moves = changes.plan_day0_correction(
        visit_rows(database, today, patient_id=patient.id), protocol, day0, today
    )
    if not form.confirmed.data:
        return form_page("followup/day0.html", **(page | {"moves": moves}))
    moved = changes.correct_day0(database, current_user.actor, patient, moves, day0, entered(form.reason))
    database.commit()
    flash(_("Procedure date corrected; %(count)d visits moved.", count=moved), "info")
    return redirect(url_for("staff.patient", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>/withdraw", methods=["GET", "POST"])
@allow("nurse")
def withdraw(patient_id: int) -> ResponseReturnValue:
    patient = get_patient(patient_id)
    form = WithdrawalForm()
    today = clinic_today()
    if not form.is_submitted():
        form.withdrawn_on.data = today
    if patient.withdrawn_on is not None:
        add_error(form, _("This patient has already been withdrawn from the study."))
        return form_page("followup/withdraw.html", status=CONFLICT, patient=patient, form=form)
    if not form.validate_on_submit():
        return form_page("followup/withdraw.html", patient=patient, form=form)
    earliest = None
    if patient.procedure_date is not None:
        earliest = min(
            row.visit.window_start for row in visit_rows(db.session(), today, patient_id=patient.id)
        )
    database = db.session()
    try:
        changes.withdraw(
            database,
            current_user.actor,
            patient,
            entered(form.withdrawn_on),
            entered(form.reason),
            today,
            earliest,
        )
    except changes.WithdrawalDateOutOfRange as refused:
        message = (
            _("Enter a date from %(earliest)s to today.", earliest=date_text(refused.earliest))
            if refused.earliest
            else _("The date of withdrawal cannot be in the future.")
        )
        add_error(form, message, "withdrawn_on")
        return form_page("followup/withdraw.html", patient=patient, form=form)
    database.commit()
    flash(_("Patient %(study_id)s withdrawn from the study.", study_id=patient.study_id), "info")
    return redirect(url_for("staff.patient", patient_id=patient.id))
