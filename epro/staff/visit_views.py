"""One visit: reschedule, mark missed, enter answers on the patient's behalf, correct."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from epro import db, instruments
from epro.access import STAFF, allow
from epro.clock import clinic_today
from epro.kiosk.operations import SessionUnavailable, live_session
from epro.kiosk.steps import steps_for
from epro.models import Patient, Response, Visit
from epro.schedule import days_outside_window
from epro.staff import bp, operations
from epro.staff.forms import CorrectionForm, EmptyForm, MissedForm, RescheduleForm, StaffEntryForm
from epro.visits import status_of


def get_visit(visit_id: int) -> tuple[Visit, Patient]:
    database = db.session()
    visit = database.get(Visit, visit_id)
    if visit is None:
        abort(404)
    patient = database.get(Patient, visit.patient_id)
    assert patient is not None
    return visit, patient


def _back(visit: Visit):  # type: ignore[no-untyped-def]
    return redirect(url_for("staff.visit", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>")
@allow(*STAFF)
def visit(visit_id: int):  # type: ignore[no-untyped-def]
    visit, patient = get_visit(visit_id)
    database = db.session()
    session = live_session(database, visit)
    responses = database.exec(
        select(Response).where(Response.visit_id == visit.id).order_by(Response.id)
    ).all()
    answers = [(r, instruments.get(r.instrument_code, r.instrument_version)) for r in responses]
    outside = (
        days_outside_window(visit.actual_date, visit.window_start, visit.window_end)
        if visit.actual_date
        else 0
    )
    return render_template(
        "staff/visit.html",
        visit=visit,
        patient=patient,
        status=status_of(visit, session, clinic_today()),
        session=session,
        answers=answers,
        days_outside=outside,
        reschedule_form=RescheduleForm(new_date=visit.appointment_date),
        missed_form=MissedForm(),
        correction_form=CorrectionForm(),
        form=EmptyForm(),
    )


def _form_errors(form) -> None:  # type: ignore[no-untyped-def]
    for field in form:
        for error in field.errors:
            flash(f"{field.label.text}: {error}", "error")


@bp.route("/visits/<int:visit_id>/reschedule", methods=["POST"])
@allow("nurse")
def reschedule(visit_id: int):  # type: ignore[no-untyped-def]
    visit, _patient = get_visit(visit_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return _back(visit), 400
    database = db.session()
    try:
        operations.reschedule(
            database, current_user.actor, visit, form.new_date.data, (form.reason.data or "").strip()
        )
    except ValueError:
        flash(
            _("A date outside the window needs a reason; the visit will be flagged as a deviation."), "error"
        )
        return _back(visit), 400
    except operations.NotAllowedNow:
        flash(_("A completed visit cannot be rescheduled."), "error")
        return _back(visit), 409
    database.commit()
    flash(_("Visit rescheduled."), "info")
    return _back(visit)


@bp.route("/visits/<int:visit_id>/missed", methods=["POST"])
@allow("nurse")
def mark_missed(visit_id: int):  # type: ignore[no-untyped-def]
    visit, _patient = get_visit(visit_id)
    form = MissedForm()
    if not form.validate_on_submit() or not form.reason.data.strip():
        flash(_("Please give a reason."), "error")
        return _back(visit), 400
    database = db.session()
    try:
        operations.mark_missed(database, current_user.actor, visit, form.reason.data.strip())
    except operations.NotAllowedNow:
        flash(_("This visit already has answers or is already marked missed."), "error")
        return _back(visit), 409
    database.commit()
    flash(_("Visit marked as missed."), "info")
    return _back(visit)


def _entry_form(visit: Visit, language: str) -> StaffEntryForm:
    """The staff entry form with one radio group per item of the visit."""

    class VisitEntryForm(StaffEntryForm):
        pass

    for step in steps_for(visit):
        choices = [SelectChoice(str(o.value), f"{o.value} · {o.label(language)}") for o in step.item.options]
        field = RadioField(
            step.instrument.name(language),
            choices=choices,
            validators=[InputRequired(_("Choose an answer for every question."))],
            description=step.item.text(language),
        )
        setattr(VisitEntryForm, f"item_{step.item.code}", field)
    return VisitEntryForm()


@bp.route("/visits/<int:visit_id>/enter", methods=["GET", "POST"])
@allow("nurse")
def enter_answers(visit_id: int):  # type: ignore[no-untyped-def]
    """Answers a nurse enters for a patient who cannot use the tablet (flagged, with a reason)."""
    visit, patient = get_visit(visit_id)
    language = request.form.get("language") or patient.preferred_language
    if language not in ("ko", "en"):
        language = patient.preferred_language
    form = _entry_form(visit, language)
    if request.method == "GET":
        form.language.data = patient.preferred_language
    if form.validate_on_submit():
        values = {step.item.code: int(form[f"item_{step.item.code}"].data) for step in steps_for(visit)}
        database = db.session()
        try:
            operations.enter_on_behalf(
                database,
                current_user.actor,
                visit,
                values,
                form.language.data,
                form.reason.data.strip(),
                clinic_today(),
            )
        except SessionUnavailable:
            database.rollback()
            flash(_("The questionnaires for this visit have already been submitted."), "error")
            return _back(visit), 409
        database.commit()
        flash(_("Answers saved as entered by staff."), "info")
        return _back(visit)
    item_fields = [form[f"item_{step.item.code}"] for step in steps_for(visit)]
    return render_template(
        "staff/enter_answers.html", visit=visit, patient=patient, form=form, item_fields=item_fields
    ), 400 if form.errors else 200


@bp.route("/responses/<int:response_id>/correct", methods=["POST"])
@allow("nurse")
def correct_response(response_id: int):  # type: ignore[no-untyped-def]
    database = db.session()
    response = database.get(Response, response_id)
    if response is None:
        abort(404)
    visit, _patient = get_visit(response.visit_id)
    form = CorrectionForm()
    if not form.validate_on_submit() or not form.reason.data.strip():
        _form_errors(form)
        return _back(visit), 400
    item = next(
        i
        for i in instruments.get(response.instrument_code, response.instrument_version).items
        if i.code == response.item_code
    )
    try:
        operations.correct_response(
            database, current_user.actor, response, form.value.data, form.reason.data.strip(), item.values
        )
    except ValueError:
        flash(_("That answer is not one of the choices. Nothing was saved."), "error")
        return _back(visit), 400
    except operations.NotAllowedNow:
        flash(_("The corrected value is the same as the current one. Nothing was changed."), "error")
        return _back(visit), 400
    database.commit()
    flash(_("Answer corrected. The original stays in the audit trail."), "info")
    return _back(visit)
