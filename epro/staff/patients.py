"""Patient registry pages: list, register, edit (with a reason), enrol, the patient page, calendar file."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from epro import db, reports, signatures
from epro.access import STAFF, allow
from epro.clock import clinic_today
from epro.codes import PatientStatus
from epro.downloads import attachment
from epro.enrolment import enrol
from epro.followup import rules
from epro.models import Patient
from epro.registry import register_patient
from epro.schedule import load_protocol
from epro.staff import bp
from epro.staff.calendar import patient_calendar
from epro.staff.form_page import CONFLICT, add_error, form_page
from epro.staff.forms import EmptyForm, EnrolForm, PatientEditForm, PatientForm, entered
from epro.staff.operations import update_patient
from epro.staff.registry_queries import PAGE_SIZE, patient_page
from epro.templating import date_text
from epro.visits import visit_rows

PATIENT_FIELDS = ("study_id", "birth_year", "sex", "preferred_language")


def get_patient(patient_id: int) -> Patient:
    patient = db.session().get(Patient, patient_id)
    if patient is None:
        abort(404)
    return patient


def _study_id_taken(study_id: str, except_id: int | None = None) -> bool:
    found = db.session().exec(select(Patient).where(Patient.study_id == study_id)).first()
    return found is not None and found.id != except_id


@bp.route("/patients")
@allow(*STAFF)
def patients() -> ResponseReturnValue:
    status_arg = request.args.get("status", "")
    status = PatientStatus(status_arg) if status_arg in set(PatientStatus) else None
    within = request.args.get("next", "")
    next_within = int(within) if within in ("7", "14", "30") else None
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdecimal() and len(page) < 6 else 1
    search = "".join(ch for ch in request.args.get("q", "") if ch.isprintable())[:32]
    rows, total = patient_page(
        db.session(),
        clinic_today(),
        search=search,
        status=status,
        next_within_days=next_within,
        page=page_number,
    )
    return render_template(
        "staff/patients.html",
        rows=rows,
        total=total,
        page=page_number,
        pages=max(1, -(-total // PAGE_SIZE)),
        search=search,
        status=status_arg if status else "",
        next_within=within if next_within else "",
        statuses=list(PatientStatus),
    )


@bp.route("/patients/new", methods=["GET", "POST"])
@allow("nurse")
def new_patient() -> ResponseReturnValue:
    form = PatientForm()
    if form.validate_on_submit():
        if _study_id_taken(entered(form.study_id)):
            add_error(form, _("This study ID is already registered."), "study_id")
        else:
            database = db.session()
            try:
                patient = register_patient(
                    database,
                    current_user.actor,
                    **{field: getattr(form, field).data for field in PATIENT_FIELDS},
                )
                database.commit()
            except IntegrityError:
                database.rollback()
                add_error(form, _("This study ID is already registered."), "study_id")
            else:
                flash(_("Patient %(study_id)s added.", study_id=patient.study_id), "info")
                return redirect(url_for("staff.patient", patient_id=patient.id))
    return form_page("staff/patient_form.html", form=form, patient=None)


@bp.route("/patients/<int:patient_id>/edit", methods=["GET", "POST"])
@allow("nurse")
def edit_patient(patient_id: int) -> ResponseReturnValue:
    patient = get_patient(patient_id)
    form = PatientEditForm(obj=patient)
    if form.validate_on_submit():
        if _study_id_taken(entered(form.study_id), except_id=patient.id):
            add_error(form, _("This study ID is already registered."), "study_id")
        else:
            database = db.session()
            changes = {field: getattr(form, field).data for field in PATIENT_FIELDS}
            changed = update_patient(database, current_user.actor, patient, changes, entered(form.reason))
            database.commit()
            flash(_("%(count)d change(s) saved.", count=changed), "info")
            return redirect(url_for("staff.patient", patient_id=patient.id))
    return form_page("staff/patient_form.html", form=form, patient=patient)


def patient_view(patient: Patient, *, status: int | None = None, **forms: FlaskForm) -> tuple[str, int]:
    """The patient page; a bound form passed in (with its errors) replaces the blank one."""
    assert patient.id is not None
    today = clinic_today()
    rows = visit_rows(db.session(), today, patient_id=patient.id)
    blank: dict[str, FlaskForm] = {"enrol_form": EnrolForm(formdata=None), "form": EmptyForm(formdata=None)}
    return form_page(
        "staff/patient.html",
        status=status,
        patient=patient,
        rows=rows,
        today=today,
        signature=signatures.state_of(db.session(), patient.id) if patient.procedure_date else None,
        **(blank | forms),
        **reports.inline_context(db.session(), patient.id, current_user.username),
    )


@bp.route("/patients/<int:patient_id>")
@allow(*STAFF)
def patient(patient_id: int) -> ResponseReturnValue:
    return patient_view(get_patient(patient_id))


DAY0_MESSAGES = {
    rules.DayZeroOutOfRange: _l("Enter a procedure date from %(earliest)s to %(latest)s."),
    rules.DayZeroNeedsConfirmation: _l(
        "This date is more than a month from today. Check it, then tick the confirmation below."
    ),
}


def day0_problem(form: FlaskForm, day0: date, confirmed: bool) -> bool:
    """Check day 0 against the clinic's range; on a problem, put its message on the field."""
    try:
        rules.check_day0(
            day0, clinic_today(), rules.DateLimits.from_config(current_app.config), confirmed=confirmed
        )
    except rules.DateRuleError as refused:
        message = DAY0_MESSAGES[type(refused)] % {
            "earliest": date_text(refused.earliest),
            "latest": date_text(refused.latest),
        }
        add_error(form, str(message), "procedure_date")
        form.needs_confirmation = isinstance(refused, rules.DayZeroNeedsConfirmation)
        return True
    return False


@bp.route("/patients/<int:patient_id>/enrol", methods=["POST"])
@allow("nurse")
def enrol_patient(patient_id: int) -> ResponseReturnValue:
    patient = get_patient(patient_id)
    form = EnrolForm()
    if patient.procedure_date is not None:
        add_error(
            form, _("The procedure date is already entered. Use “Correct procedure date” to change it.")
        )
        return patient_view(patient, status=CONFLICT, enrol_form=form)
    if not form.validate_on_submit():
        return patient_view(patient, enrol_form=form)
    day0 = entered(form.procedure_date)
    if day0_problem(form, day0, bool(form.confirm_far.data)):
        return patient_view(patient, enrol_form=form)
    database = db.session()
    visits = enrol(
        database,
        patient,
        load_protocol(current_app.config["PROTOCOL"]),
        day0,
        current_user.actor,
    )
    database.commit()
    flash(_("Procedure date entered: %(count)d visits scheduled.", count=len(visits)), "info")
    return redirect(url_for("staff.patient", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>/visits.ics")
@allow(*STAFF)
def patient_ics(patient_id: int) -> ResponseReturnValue:
    patient = get_patient(patient_id)
    rows = visit_rows(db.session(), clinic_today(), patient_id=patient.id)
    body = patient_calendar(patient, rows, clinic_today())
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": attachment(f"visits-{patient.id}.ics"), "Cache-Control": "no-store"},
    )
