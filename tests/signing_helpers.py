"""Building signed-patient stories through the same operations the app uses."""

from __future__ import annotations

from sqlmodel import select

from epro import db
from epro.audit import Actor
from epro.models import Patient, Response, StaffUser, Visit
from epro.questionnaires.answers import correct_response, enter_on_behalf
from epro.staff import operations
from tests.conftest import PASSWORD, World, csrf_of, sign_in


def investigator(
    world: World, username: str = "inv", full_name: str | None = "Kim Jihoon", language: str = "en"
) -> int:
    user_id = world.staff(username, "investigator", language)
    if full_name:
        with world.app.app_context(), db.unit_of_work() as s:
            user = s.get(StaffUser, user_id)
            assert user is not None
            operations.update_staff_field(s, Actor("system", None, "test"), user, "full_name", full_name)
    return user_id


def answered_patient(
    world: World, study_id: str = "EPR-101", values: tuple[int, int, int] = (70, 5, 6)
) -> Patient:
    """A patient whose baseline answers a nurse entered on the patient's behalf."""
    nurse_id = world.staff(f"nurse-{study_id.lower()}", "nurse")
    patient = world.patient(study_id, day0_offset=0)
    visit = world.visit(patient, "BL")
    with world.app.app_context(), db.unit_of_work() as s:
        visit = s.get(Visit, visit.id)
        assert visit is not None
        answers = dict(zip(("PS1", "WB1", "QOL1"), values, strict=True))
        enter_on_behalf(
            s,
            Actor("staff", nurse_id, "nurse"),
            visit,
            answers,
            "ko",
            "reads poorly",
            world.today(),
            world.today(),
        )
    return patient


def correct(world: World, patient: Patient, item: str, value: int) -> None:
    with world.app.app_context(), db.unit_of_work() as s:
        response = s.exec(
            select(Response)
            .join(Visit, Visit.id == Response.visit_id)  # type: ignore[arg-type]
            .where(Visit.patient_id == patient.id, Response.item_code == f"{item}1")
        ).one()
        correct_response(s, Actor("system", None, "test"), response, value, "typo")


def sign_page(client, patient_id: int):  # type: ignore[no-untyped-def]
    return client.get(f"/signatures/patients/{patient_id}")


def sign(
    client,
    patient_id: int,
    *,
    meaning: str = "reviewed",
    username: str | None = "inv",
    password: str = PASSWORD,
):  # type: ignore[no-untyped-def]
    page = sign_page(client, patient_id)
    hash_ = page.text.split('id="content_sha256" name="content_sha256" type="hidden" value="')[1].split('"')[
        0
    ]
    data = {
        "csrf_token": csrf_of(page.text),
        "meaning": meaning,
        "password": password,
        "content_sha256": hash_,
    }
    if username is not None:
        data["username"] = username
    return client.post(f"/signatures/patients/{patient_id}", data=data)


def signed_in_investigator(world: World, client, **kwargs):  # type: ignore[no-untyped-def]
    investigator(world, **kwargs)
    assert sign_in(client, kwargs.get("username", "inv")).status_code == 302
