"""One visit: reschedule, mark missed, enter answers on the patient's behalf, correct."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select
from wtforms import RadioField
from wtforms.validators import InputRequired

from epro import db, instruments
from epro.access import STAFF, allow
from epro.clock import clinic_today
from epro.followup import rules
from epro.form_choices import SelectChoice
from epro.models import Patient, Response, Visit
from epro.questionnaires import answers
from epro.questionnaires.errors import (
    AlreadySubmitted,
    AnswerNotAChoice,
    AnswerUnchanged,
    AssessmentDateOutOfRange,
)
from epro.questionnaires.sessions import live_session
from epro.questionnaires.steps import steps_for
from epro.schedule import days_outside_window
from epro.staff import bp, operations
from epro.staff.form_page import CONFLICT, add_error, form_page
from epro.staff.forms import CorrectionForm, EmptyForm, MissedForm, RescheduleForm, StaffEntryForm
from epro.templating import date_text
from epro.visits import status_of


def get_visit(visit_id: int) -> tuple[Visit, Patient]:
    database = db.session()
    visit = database.get(Visit, visit_id)
    if visit is None:
        abort(404)
    patient = database.get(Patient, visit.patient_id)
    assert patient is not None
    return visit, patient


def _back(visit: Visit) -> ResponseReturnValue:
    return redirect(url_for("staff.visit", visit_id=visit.id))


def visit_page(
    visit: Visit, patient: Patient, *, status: int | None = None, **forms: FlaskForm
) -> ResponseReturnValue:
    """The visit page with its forms; a form passed in (bound, with its errors) replaces the blank one.
    Every visit form's failure renders this page again (see epro.staff.form_page)."""
    database = db.session()
    session = live_session(database, visit)
    responses = database.exec(
        select(Response).where(Response.visit_id == visit.id).order_by(col(Response.id))
    ).all()
    answered = [(r, instruments.get(r.instrument_code, r.instrument_version)) for r in responses]
    outside = (
        days_outside_window(visit.actual_date, visit.window_start, visit.window_end)
        if visit.actual_date
        else 0
    )
    blank: dict[str, FlaskForm] = {
        "reschedule_form": RescheduleForm(formdata=None, new_date=visit.appointment_date),
        "missed_form": MissedForm(formdata=None),
        "correction_form": CorrectionForm(formdata=None),
        "form": EmptyForm(formdata=None),
    }
    return form_page(
        "staff/visit.html",
        status=status,
        visit=visit,
        patient=patient,
        visit_status=status_of(visit, session, clinic_today(), patient.withdrawn_on),
        session=session,
        answers=answered,
        days_outside=outside,
        correction_for=forms.pop("correction_for", None),
        **(blank | forms),
    )


@bp.route("/visits/<int:visit_id>")
@allow(*STAFF)
def visit(visit_id: int) -> ResponseReturnValue:
    visit, patient = get_visit(visit_id)
    return visit_page(visit, patient)


def _next_target(visit: Visit) -> date | None:
    later = (
        db.session()
        .exec(
            select(col(Visit.target_date))
            .where(Visit.patient_id == visit.patient_id, Visit.number > visit.number)
            .order_by(col(Visit.number))
        )
        .first()
    )
    return later


RESCHEDULE_MESSAGES = {
    rules.RescheduleBeforeDayZero: _l("A visit cannot be moved before %(earliest)s (day 0 or its window)."),
    rules.RescheduleTooLate: _l("A visit cannot be moved after %(latest)s."),
    rules.ReschedulePastNextVisit: _l(
        "This date is on or after the next visit (%(latest)s). Tick the confirmation and give a reason."
    ),
}


@bp.route("/visits/<int:visit_id>/reschedule", methods=["POST"])
@allow("nurse")
def reschedule(visit_id: int) -> ResponseReturnValue:
    visit, patient = get_visit(visit_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        return visit_page(visit, patient, reschedule_form=form)
    reason = (form.reason.data or "").strip()
    new_date = form.new_date.data
    assert new_date is not None  # InputRequired
    assert patient.procedure_date is not None
    try:
        rules.check_reschedule(
            new_date,
            day0=patient.procedure_date,
            window_start=visit.window_start,
            window_end=visit.window_end,
            next_target=_next_target(visit),
            limits=rules.DateLimits.from_config(current_app.config),
            confirmed_with_reason=bool(form.past_next_visit.data and reason),
        )
    except rules.DateRuleError as refused:
        add_error(
            form,
            str(
                RESCHEDULE_MESSAGES[type(refused)]
                % {
                    "earliest": date_text(refused.earliest),
                    "latest": date_text(refused.latest),
                }
            ),
            "new_date",
        )
        return visit_page(visit, patient, reschedule_form=form)
    database = db.session()
    try:
        operations.reschedule(database, current_user.actor, visit, new_date, reason)
    except operations.ReasonRequired:
        add_error(
            form,
            _("A date outside the window needs a reason; the visit will be flagged as a deviation."),
            "reason",
        )
        return visit_page(visit, patient, reschedule_form=form)
    except AlreadySubmitted:
        add_error(form, _("A completed visit cannot be rescheduled."))
        return visit_page(visit, patient, status=CONFLICT, reschedule_form=form)
    database.commit()
    flash(_("Visit rescheduled."), "info")
    return _back(visit)


@bp.route("/visits/<int:visit_id>/missed", methods=["POST"])
@allow("nurse")
def mark_missed(visit_id: int) -> ResponseReturnValue:
    visit, patient = get_visit(visit_id)
    form = MissedForm()
    if not form.validate_on_submit():
        return visit_page(visit, patient, missed_form=form)
    database = db.session()
    try:
        operations.mark_missed(database, current_user.actor, visit, (form.reason.data or "").strip())
    except AlreadySubmitted:
        add_error(form, _("The questionnaires for this visit have already been submitted."))
        return visit_page(visit, patient, status=CONFLICT, missed_form=form)
    except operations.AlreadyMissed:
        add_error(form, _("This visit is marked as missed."))
        return visit_page(visit, patient, status=CONFLICT, missed_form=form)
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
def enter_answers(visit_id: int) -> ResponseReturnValue:
    """Answers a nurse enters for a patient who cannot use the tablet (flagged, with a reason)."""
    visit, patient = get_visit(visit_id)
    language = request.form.get("language") or patient.preferred_language
    if language not in ("ko", "en"):
        language = patient.preferred_language
    form = _entry_form(visit, language)
    conflict = None
    if request.method == "GET":
        form.language.data = patient.preferred_language
        form.assessment_date.data = clinic_today()
    if form.validate_on_submit():
        assert form.assessment_date.data is not None  # InputRequired
        values = {step.item.code: int(form[f"item_{step.item.code}"].data) for step in steps_for(visit)}
        database = db.session()
        try:
            answers.enter_on_behalf(
                database,
                current_user.actor,
                visit,
                values,
                form.language.data,
                (form.reason.data or "").strip(),
                clinic_today(),
                form.assessment_date.data,
            )
        except AlreadySubmitted:
            database.rollback()
            add_error(form, _("The questionnaires for this visit have already been submitted."))
            conflict = CONFLICT
        except AssessmentDateOutOfRange as refused:
            database.rollback()
            add_error(
                form,
                _(
                    "The assessment date must lie between %(earliest)s (60 days before day 0) and %(latest)s (today).",
                    earliest=date_text(refused.earliest),
                    latest=date_text(refused.latest),
                ),
                "assessment_date",
            )
        except AnswerNotAChoice as refused:
            database.rollback()
            add_error(
                form,
                _("That answer is not one of the choices. Nothing was saved."),
                f"item_{refused.item_code}",
            )
        else:
            database.commit()
            flash(_("Answers saved as entered by staff."), "info")
            return _back(visit)
    item_fields = [form[f"item_{step.item.code}"] for step in steps_for(visit)]
    return form_page(
        "staff/enter_answers.html",
        status=conflict,
        visit=visit,
        patient=patient,
        form=form,
        item_fields=item_fields,
    )


@bp.route("/responses/<int:response_id>/correct", methods=["POST"])
@allow("nurse")
def correct_response(response_id: int) -> ResponseReturnValue:
    database = db.session()
    response = database.get(Response, response_id)
    if response is None:
        abort(404)
    visit, patient = get_visit(response.visit_id)
    form = CorrectionForm()
    if not form.validate_on_submit():
        return visit_page(visit, patient, correction_form=form, correction_for=response.id)
    assert form.value.data is not None  # InputRequired
    try:
        answers.correct_response(
            database, current_user.actor, response, form.value.data, (form.reason.data or "").strip()
        )
    except AnswerNotAChoice:
        add_error(form, _("That answer is not one of the choices. Nothing was saved."), "value")
        return visit_page(visit, patient, correction_form=form, correction_for=response.id)
    except AnswerUnchanged:
        add_error(
            form, _("The corrected value is the same as the current one. Nothing was changed."), "value"
        )
        return visit_page(visit, patient, correction_form=form, correction_for=response.id)
    database.commit()
    flash(_("Answer corrected. The original stays in the audit trail."), "info")
    return _back(visit)
