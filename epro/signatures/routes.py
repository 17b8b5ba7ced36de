"""The investigator's review-and-sign page."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from epro import db
from epro.access import allow
from epro.clock import clinic_zone, to_clinic_time
from epro.models import Patient, StaffUser, utcnow
from epro.schedule import load_protocol
from epro.signatures import operations as ops
from epro.signatures.content import content_of
from epro.signatures.forms import MEANING_WORDS, SignForm
from epro.signatures.state import state_of

bp = Blueprint("signatures", __name__, url_prefix="/signatures")

#: Set in the sign-in session after its first signature: later ones ask for the password only.
IDENTIFIED = "signature_identified"


def policy() -> ops.LockPolicy:
    return ops.LockPolicy(
        max_failures=int(current_app.config["SIGNATURE_MAX_FAILURES"]),
        window=timedelta(minutes=int(current_app.config["SIGNATURE_LOCK_MINUTES"])),
    )


def refusal_message(refusal: ops.SigningRefused) -> str:
    if isinstance(refusal, ops.NoPrintedName):
        return _("Your account has no printed name. Ask an admin to add your full name before you sign.")
    if isinstance(refusal, ops.NotASigner):
        return _("Only investigators sign patient data.")
    if isinstance(refusal, ops.WrongCredentials):
        return _(
            "The user name or password is not correct. %(count)d attempt(s) left before signing is locked.",
            count=refusal.attempts_left,
        )
    if isinstance(refusal, ops.SigningLocked):
        return _(
            "Signing is locked until %(time)s after too many wrong attempts. The attempts have been recorded.",
            time=format_datetime(to_clinic_time(refusal.until), "short"),
        )
    return _("This patient has no data to sign yet.")


class DataChanged(ops.SigningRefused):
    """The data changed between the review page and the signature."""


def reviewed_data(patient: Patient, data: bytes) -> dict[str, Any]:
    """The signed document itself, grouped for the page: what is shown is exactly what is hashed."""
    document = json.loads(data)
    answers: dict[str, list[dict[str, Any]]] = {}
    for answer in document["answers"]:
        answers.setdefault(answer["visit"], []).append(answer)
    protocol = load_protocol(
        patient.protocol_code or current_app.config["PROTOCOL"], patient.protocol_version
    )
    language = str(get_locale())
    labels = {visit.code: visit.label(language) for visit in protocol.visits}
    submitted = {
        visit["code"]: to_clinic_time(datetime.fromisoformat(visit["submitted_at"])).strftime(
            "%Y-%m-%d %H:%M %Z"
        )
        for visit in document["visits"]
        if visit["submitted_at"]
    }
    return {"document": document, "answers": answers, "labels": labels, "submitted": submitted}


@bp.route("/patients/<int:patient_id>", methods=["GET", "POST"])
@allow("investigator")
def sign(patient_id: int) -> ResponseReturnValue:
    database = db.session()
    patient = database.get(Patient, patient_id)
    if patient is None or patient.procedure_date is None:
        abort(404)
    user = database.get(StaffUser, current_user.id)
    assert user is not None
    ask_name = not session.get(IDENTIFIED)
    form = SignForm()
    if not ask_name:
        del form.username
    refusal: ops.SigningRefused | None = None
    status = 200
    try:
        ops.check_signer(database, user, patient, utcnow(), policy())
    except ops.SigningRefused as refused:
        refusal = refused
    if refusal is None and form.validate_on_submit():
        shown_hash = form.content_sha256.data
        username = form.username.data if ask_name else None
        expected_name, password_hash = user.username, user.password_hash
        database.rollback()  # release SQLite's write lock: the Argon2 check takes hundreds of ms
        good = ops.credentials_match(expected_name, password_hash, username, form.password.data or "")
        patient = database.get(Patient, patient_id)
        user = database.get(StaffUser, current_user.id)
        assert patient is not None and user is not None
        try:
            ops.check_signer(database, user, patient, utcnow(), policy())
            if not good:
                raise ops.fail(database, user, patient, utcnow(), policy())
            if content_of(database, patient_id).sha256 != shown_hash:
                raise DataChanged
            signature = ops.sign(database, user, patient, form.meaning.data, now=utcnow(), zone=clinic_zone())
        except DataChanged:
            refusal = None
            flash(
                _("The data changed while you were reviewing it. Review it again before you sign."), "error"
            )
            status = 409
        except ops.SigningRefused as refused:
            database.commit()  # the failed attempt and any lock are recorded even though signing is refused
            refusal = refused
            status = 423 if isinstance(refused, ops.SigningLocked) else 401
        else:
            database.commit()
            session[IDENTIFIED] = True
            flash(
                _(
                    "Signed: %(study_id)s, %(meaning)s.",
                    study_id=patient.study_id,
                    meaning=MEANING_WORDS[signature.meaning],
                ),
                "info",
            )
            return redirect(url_for("staff.patient", patient_id=patient.id))
    elif form.errors:
        status = 400
    content = content_of(database, patient.id or 0)
    form.content_sha256.data = content.sha256
    if "password" in form:
        form.password.data = ""
    return render_template(
        "signatures/sign.html",
        patient=patient,
        signer=user,
        form=form,
        ask_name=ask_name,
        refusal=refusal_message(refusal) if refusal else None,
        locked=isinstance(refusal, (ops.SigningLocked, ops.NoPrintedName, ops.NotASigner)),
        signature=state_of(database, patient.id or 0),
        content=content,
        reviewed=reviewed_data(patient, content.data),
    ), status
