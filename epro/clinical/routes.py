"""Nurses enter and correct clinical values at a visit, and the baseline characteristics of a patient.

Investigators and admins read the values on the visit and patient pages; these routes are the nurse's.
A refused form comes back with its errors and what was typed, status 422, and nothing saved.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as WerkzeugResponse

from epro import db
from epro.access import allow
from epro.clinical import operations
from epro.clinical.characteristics import characteristics_for
from epro.clinical.forms import baseline_form, correction_form, entry_form, read_value
from epro.clinical.panel import visit_panel
from epro.clinical.queries import patient_characteristics
from epro.clock import clinic_today
from epro.models import ClinicalValue, Patient, Visit
from epro.schedule import load_protocol
from epro.staff.form_page import form_page

#: A refused clinical form: the page again with its errors and the input kept; nothing was saved.
UNPROCESSABLE = 422

bp = Blueprint("clinical", __name__, url_prefix="/staff")


def _language() -> str:
    return str(get_locale())


def _visit(visit_id: int) -> tuple[Visit, Patient]:
    database = db.session()
    visit = database.get(Visit, visit_id)
    patient = None if visit is None else database.get(Patient, visit.patient_id)
    if visit is None or patient is None:
        abort(404)
    return visit, patient


def _back(visit: Visit) -> WerkzeugResponse:
    return redirect(url_for("staff.visit", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>/clinical", methods=["GET", "POST"])
@allow("nurse")
def enter_values(visit_id: int) -> ResponseReturnValue:
    visit, patient = _visit(visit_id)
    database = db.session()
    panel = visit_panel(database, visit, patient)
    if panel is None:
        abort(404)
    open_measures = tuple(line.measure for line in panel.lines if line.value is None)
    form = entry_form(open_measures, _language())
    if not form.is_submitted():
        form.sample_date.data = visit.actual_date or min(visit.appointment_date, clinic_today())
    context = {"visit": visit, "patient": patient, "panel": panel, "form": form, "measures": open_measures}
    if not form.is_submitted():
        return render_template("clinical/enter.html", **context)
    valid = form.validate()
    today = clinic_today()
    if form.sample_date.data and form.sample_date.data > today:
        form.sample_date.errors = [*form.sample_date.errors, _("The sample date cannot be after today.")]
        valid = False
    entries = []
    for measure in open_measures:
        value, _outside = read_value(
            form[f"value_{measure.code}"], measure, form._fields.get(f"confirm_{measure.code}")
        )
        if form[f"value_{measure.code}"].errors:
            valid = False
        elif value is not None:
            entries.append((measure, value))
    if valid and not entries:
        form.form_errors.append(_("Enter at least one value. Nothing was saved."))
        valid = False
    if not valid:
        return form_page(status=UNPROCESSABLE, template="clinical/enter.html", **context)
    assert form.sample_date.data is not None  # a required field: validate() refused an empty one
    try:
        for measure, value in entries:
            operations.enter_value(
                database,
                current_user.actor,
                visit,
                panel.measure_set,
                measure,
                value,
                form.sample_date.data,
                confirmed=bool(
                    form._fields.get(f"confirm_{measure.code}") and form[f"confirm_{measure.code}"].data
                ),
                today=today,
            )
    except (operations.AlreadyRecorded, IntegrityError):
        database.rollback()
        flash(
            _(
                "A value was recorded meanwhile by someone else. Nothing was saved; please check and try again."
            ),
            "error",
        )
        return _back(visit), 409
    database.commit()
    flash(_("%(count)d clinical value(s) saved.", count=len(entries)), "info")
    return _back(visit)


@bp.route("/visits/<int:visit_id>/clinical/<code>/correct", methods=["GET", "POST"])
@allow("nurse")
def correct_value(visit_id: int, code: str) -> ResponseReturnValue:
    visit, patient = _visit(visit_id)
    database = db.session()
    panel = visit_panel(database, visit, patient)
    line = None if panel is None else next((ln for ln in panel.lines if ln.measure.code == code), None)
    if line is None or line.value is None:
        abort(404)
    row: ClinicalValue = line.value
    measure = line.measure
    form = correction_form(measure, _language())
    context = {"visit": visit, "patient": patient, "line": line, "form": form}
    if not form.is_submitted():
        form.value.data = measure.format(row.value) if measure.is_number else row.value_code
        form.sample_date.data = row.sample_date
        return render_template("clinical/correct.html", **context)
    valid = form.validate()
    today = clinic_today()
    value, _outside = read_value(form.value, measure, form.confirm)
    if form.value.errors:
        valid = False
    if form.sample_date.data and form.sample_date.data > today:
        form.sample_date.errors = [*form.sample_date.errors, _("The sample date cannot be after today.")]
        valid = False
    if not valid or value is None:
        return form_page(status=UNPROCESSABLE, template="clinical/correct.html", **context)
    assert form.sample_date.data is not None  # a required field: validate() refused an empty one
    try:
        operations.correct_value(
            database,
            current_user.actor,
            row,
            measure,
            value,
            form.sample_date.data,
            form.reason.data or "",
            confirmed=bool(form.confirm.data),
            today=today,
        )
    except operations.ReasonRequired:  # only spaces typed
        form.reason.errors = [*form.reason.errors, _("Please give a reason.")]
        return form_page(status=UNPROCESSABLE, template="clinical/correct.html", **context)
    except operations.NothingChanged:
        form.form_errors.append(
            _("The corrected value and date are the same as the recorded ones. Nothing was changed.")
        )
        return form_page(status=UNPROCESSABLE, template="clinical/correct.html", **context)
    database.commit()
    flash(_("Value corrected. The original stays in the audit trail."), "info")
    return _back(visit)


@bp.route("/patients/<int:patient_id>/baseline", methods=["GET", "POST"])
@allow("nurse")
def baseline(patient_id: int) -> ResponseReturnValue:
    database = db.session()
    patient = database.get(Patient, patient_id)
    if patient is None:
        abort(404)
    if patient.protocol_code is None:
        flash(_("Enrol the patient first: the protocol defines the baseline characteristics."), "error")
        return redirect(url_for("staff.patient", patient_id=patient.id))
    characteristics = characteristics_for(load_protocol(patient.protocol_code, patient.protocol_version))
    assert patient.id is not None
    existing = patient_characteristics(database, patient.id)
    form = baseline_form(characteristics, _language())
    context = {"patient": patient, "form": form, "characteristics": characteristics, "existing": existing}
    if not form.is_submitted():
        for characteristic in characteristics:
            if characteristic.code in existing:
                form[f"value_{characteristic.code}"].data = existing[characteristic.code].value
        return render_template("clinical/baseline.html", **context)
    valid = form.validate()
    changes = []
    for characteristic in characteristics:
        field = form[f"value_{characteristic.code}"]
        if characteristic.measure is not None:
            value, _outside = read_value(field, characteristic.measure, None)
        else:
            value = (field.data or "").strip() or None
        if field.errors:
            valid = False
            continue
        row = existing.get(characteristic.code)
        if value is None:
            if row is not None:
                field.errors = [
                    *field.errors,
                    _("A recorded value cannot be removed; change it with a reason."),
                ]
                valid = False
            continue
        if row is None or row.value != operations.characteristic_text(characteristic, value):
            changes.append((characteristic, value, row))
    reason = (form.reason.data or "").strip()
    if valid and any(row is not None for _c, _v, row in changes) and not reason:
        form.reason.errors = [*form.reason.errors, _("Changing a recorded value needs a reason.")]
        valid = False
    if valid and not changes:
        form.form_errors.append(_("Nothing was changed."))
        valid = False
    if not valid:
        return form_page(status=UNPROCESSABLE, template="clinical/baseline.html", **context)
    for characteristic, value, row in changes:
        operations.set_characteristic(
            database, current_user.actor, patient, characteristic, value, reason or None, existing=row
        )
    database.commit()
    flash(_("Baseline characteristics saved."), "info")
    return redirect(url_for("staff.patient", patient_id=patient.id))
