"""Electronic signatures (21 CFR 11.50, 11.70, 11.100, 11.200, 11.300), as an investigator meets them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import select

from epro import db
from epro.audit import Actor
from epro.models import AuditEvent, Patient, Signature, Visit
from epro.signatures import SignatureStatus, content_of, state_for
from epro.staff import operations
from tests.conftest import sign_in
from tests.signing_helpers import (
    answered_patient,
    correct,
    sign,
    sign_page,
    signed_in_investigator,
)


def _events(world, action):  # type: ignore[no-untyped-def]
    with world.session() as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _clinic_day(world, action):  # type: ignore[no-untyped-def]
    """The clinic's date of the (first) event of this action: the day a change is said to happen on."""
    from zoneinfo import ZoneInfo

    return _events(world, action)[0].at.astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()


def test_first_signature_asks_for_user_name_and_password_and_records_every_manifestation(world, client, app):
    patient = answered_patient(world)
    signed_in_investigator(world, client)

    page = sign_page(client, patient.id)
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert "Signing as Kim Jihoon (Investigator)" in page.text

    missing_name = sign(client, patient.id, username="")
    assert missing_name.status_code == 400 and "Enter your user name." in missing_name.text
    wrong_name = sign(client, patient.id, username="someone.else")
    assert wrong_name.status_code == 401 and "The user name or password is not correct." in wrong_name.text

    done = sign(client, patient.id, meaning="approved")
    assert done.status_code == 302
    shown = client.get(f"/staff/patients/{patient.id}").text
    assert 'data-signature-status="signed"' in shown
    assert "Approved" in shown and "Kim Jihoon (Investigator)" in shown and "KST" in shown and "UTC" in shown

    with world.session() as s:
        signature = s.exec(select(Signature)).one()
        with app.app_context():
            assert signature.content_hash == content_of(s, patient.id).sha256
    assert (signature.signer_name, signature.signer_role, signature.meaning) == (
        "Kim Jihoon",
        "investigator",
        "approved",
    )
    assert signature.clinic_zone == "Asia/Seoul" and signature.signed_at_clinic.endswith("+09:00")
    assert datetime.fromisoformat(signature.signed_at_clinic) == signature.signed_at.replace(microsecond=0)
    [event] = _events(world, "signature.sign")
    assert event.entity_id == str(signature.id) and event.field == "approved"
    assert f"sha256={signature.content_hash}" in (event.new_value or "")


def test_later_signatures_of_the_same_sign_in_ask_for_the_password_only(world, client, app):
    patient = answered_patient(world)
    signed_in_investigator(world, client)
    assert sign(client, patient.id).status_code == 302
    page = sign_page(client, patient.id)
    assert 'name="username"' not in page.text and "Enter your password again to sign." in page.text
    assert sign(client, patient.id, username=None, meaning="approved").status_code == 302

    fresh = app.test_client()
    assert sign_in(fresh, "inv").status_code == 302
    assert 'name="username"' in sign_page(fresh, patient.id).text


def test_too_many_wrong_passwords_lock_signing_and_every_attempt_is_audited(world, client):
    patient = answered_patient(world)
    signed_in_investigator(world, client)
    first = sign(client, patient.id, password="wrong password 1")
    assert first.status_code == 401 and "2 attempt(s) left" in first.text
    sign(client, patient.id, password="wrong password 2")
    locked = sign(client, patient.id, password="wrong password 3")
    assert locked.status_code == 423 and "Signing is locked until" in locked.text
    assert 'name="password"' not in locked.text

    # Even the right password is refused while locked, and the page says why.
    page = sign_page(client, patient.id)
    assert "Signing is locked until" in page.text and 'name="password"' not in page.text
    with world.session() as s:
        assert s.exec(select(Signature)).all() == []
    assert len(_events(world, "signature.failed")) == 3
    [lock] = _events(world, "signature.locked")
    assert lock.actor_name == "inv" and lock.new_value == "3 failed signing attempts"


def test_signing_needs_a_printed_name_which_an_admin_sets(world, client, app):
    patient = answered_patient(world)
    signed_in_investigator(world, client, full_name=None)
    page = sign_page(client, patient.id)
    assert "Your account has no printed name" in page.text and 'name="password"' not in page.text

    world.staff("boss", "admin", "en")
    admin = app.test_client()
    sign_in(admin, "boss")
    with world.session() as s:
        inv_id = s.exec(text("SELECT id FROM staff_user WHERE username = 'inv'")).one()[0]
    from tests.conftest import csrf_of

    csrf = csrf_of(admin.get(f"/staff/admin/users/{inv_id}").text)
    saved = admin.post(
        f"/staff/admin/users/{inv_id}/full-name", data={"csrf_token": csrf, "full_name": " Kim Jihoon "}
    )
    assert saved.status_code == 302
    assert "Kim Jihoon" in admin.get(f"/staff/admin/users/{inv_id}").text
    assert "Signing as Kim Jihoon" in sign_page(client, patient.id).text


def test_a_later_change_supersedes_the_signature_until_signed_again(world, client):
    patient = answered_patient(world)
    signed_in_investigator(world, client)
    sign(client, patient.id)
    correct(world, patient, "PS", 80)

    shown = client.get(f"/staff/patients/{patient.id}").text
    assert 'data-signature-status="superseded"' in shown
    assert f"Superseded by a change on {_clinic_day(world, 'response.correct')}" in shown

    assert sign(client, patient.id, username=None).status_code == 302
    assert 'data-signature-status="signed"' in client.get(f"/staff/patients/{patient.id}").text


def test_a_change_undone_still_supersedes(world, client, app):
    """The patient's birth year corrected and corrected back: the data hashes as signed again, but it changed."""
    patient = answered_patient(world)
    signed_in_investigator(world, client)
    sign(client, patient.id)
    system = Actor("system", None, "test")
    signed_year = patient.birth_year
    for year, reason in ((signed_year + 1, "typing error"), (signed_year, "the first year was right")):
        with app.app_context(), db.unit_of_work() as s:
            operations.update_patient(s, system, s.get(Patient, patient.id), {"birth_year": year}, reason)
    with app.app_context(), world.session() as s:
        state = state_for(s, [patient.id])[patient.id]
        assert state.signature is not None and state.signature.content_hash == state.current_hash
    assert state.status is SignatureStatus.SUPERSEDED and state.superseded_at is not None


def test_a_signature_cannot_be_moved_to_other_data_or_forged_behind_the_application(world, client, app):
    first = answered_patient(world, "EPR-101")
    second = answered_patient(world, "EPR-102", values=(70, 5, 6))  # same answers, other patient
    signed_in_investigator(world, client)
    sign(client, first.id)
    with world.session() as s:
        s.exec(text("UPDATE signature SET patient_id = :p"), params={"p": second.id})  # type: ignore[call-overload]
        s.commit()
    with app.app_context(), world.session() as s:
        states = state_for(s, [first.id, second.id])
    assert states[first.id].status is SignatureStatus.UNSIGNED
    assert states[second.id].status is SignatureStatus.SUPERSEDED

    # A row written straight into the table (no audited signing event) is never a valid signature.
    with world.session() as s:
        original = s.exec(select(Signature)).one()
        with app.app_context():
            current = content_of(s, first.id).sha256
        forged = Signature(
            **{**original.model_dump(exclude={"id"}), "patient_id": first.id, "content_hash": current}
        )
        s.add(forged)
        s.commit()
    with app.app_context(), world.session() as s:
        assert state_for(s, [first.id])[first.id].status is SignatureStatus.SUPERSEDED


def test_a_change_made_behind_the_application_supersedes_without_a_date(world, client, app):
    patient = answered_patient(world)
    signed_in_investigator(world, client)
    sign(client, patient.id)
    with world.session() as s:
        s.exec(text("UPDATE response SET value = 40 WHERE item_code = 'PS1'"))  # type: ignore[call-overload]
        s.commit()
    shown = client.get(f"/staff/patients/{patient.id}").text
    assert 'data-signature-status="superseded"' in shown and "Superseded by a change" in shown


def test_data_changed_while_reviewing_is_not_signed(world, client):
    patient = answered_patient(world)
    signed_in_investigator(world, client)
    page = sign_page(client, patient.id)
    correct(world, patient, "QOL", 2)
    from tests.conftest import PASSWORD, csrf_of

    stale = page.text.split('name="content_sha256" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        f"/signatures/patients/{patient.id}",
        data={
            "csrf_token": csrf_of(page.text),
            "meaning": "reviewed",
            "username": "inv",
            "password": PASSWORD,
            "content_sha256": stale,
        },
    )
    assert response.status_code == 409 and "The data changed while you were reviewing it." in response.text
    with world.session() as s:
        assert s.exec(select(Signature)).all() == []


def test_the_signed_content_covers_answers_visit_status_and_dates(world, app):
    patient = answered_patient(world)
    other = world.patient("EPR-102", day0_offset=-40)

    def digest(pid):  # type: ignore[no-untyped-def]
        with app.app_context(), world.session() as s:
            return content_of(s, pid).sha256

    before, other_before = digest(patient.id), digest(other.id)
    assert before == digest(patient.id)  # deterministic
    correct(world, patient, "PS", 60)
    after_answer = digest(patient.id)
    assert after_answer != before
    w1 = world.visit(other, "W1")
    with app.app_context(), db.unit_of_work() as s:
        visit = s.get(Visit, w1.id)
        operations.mark_missed(s, Actor("system", None, "test"), visit, "in hospital")
    assert digest(other.id) != other_before  # a visit status
    with app.app_context(), world.session() as s:
        document = content_of(s, patient.id).data.decode()
    assert '"status":"completed"' in document and '"submitted_at":"' in document
    assert '"actual_date":"' in document and '"item":"PS1"' in document and '"value":60' in document


def test_nurses_and_admins_see_the_state_but_cannot_sign(world, client, app):
    patient = answered_patient(world)
    world.staff("n2", "nurse", "en")
    sign_in(client, "n2")
    page = client.get(f"/staff/patients/{patient.id}").text
    assert "Not signed yet" in page and "Review and sign" not in page
    assert client.get(f"/signatures/patients/{patient.id}").status_code == 403
    assert datetime.now(UTC)  # the state is shown without any signing rights


def test_clinical_values_are_signed_and_their_entry_or_correction_supersedes(world, client, app):
    from decimal import Decimal

    from epro.clinical import operations as clinical
    from epro.clinical.measures import load_measure_set
    from epro.models import ClinicalValue

    patient = answered_patient(world)
    signed_in_investigator(world, client)
    measures = load_measure_set("liver-1.0")
    system = Actor("system", None, "test")
    bl = world.visit(patient, "BL")
    with app.app_context(), db.unit_of_work() as s:
        clinical.enter_value(
            s,
            system,
            s.get(Visit, bl.id),
            measures,
            measures.get("ALB"),
            Decimal("2.8"),
            world.today(),
            confirmed=False,
            today=world.today(),
        )
    sign(client, patient.id)
    with app.app_context(), world.session() as s:
        document = content_of(s, patient.id).data.decode()
        assert '"measure":["liver-1.0","ALB"]' in document and '"number":"2.8"' in document
        assert state_for(s, [patient.id])[patient.id].status is SignatureStatus.SIGNED

    with app.app_context(), db.unit_of_work() as s:
        row = s.exec(select(ClinicalValue)).one()
        clinical.correct_value(
            s,
            system,
            row,
            measures.get("ALB"),
            Decimal("3.0"),
            world.today(),
            "lab re-run",
            confirmed=False,
            today=world.today(),
        )
    shown = client.get(f"/staff/patients/{patient.id}").text
    assert 'data-signature-status="superseded"' in shown
    assert f"Superseded by a change on {_clinic_day(world, 'clinical.correct')}" in shown
