"""Finding 1 of issue 14: a copied staff cookie must not outlive sign-out, a password reset, a role change
or deactivation, nor the idle and absolute lifetimes. The copy is replayed from a second browser."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from epro.models import ClinicalValue, StaffUser, Visit
from tests.conftest import csrf_of, sign_in

COOKIE = "epro_session"


def _copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of this browser's session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def _can_read_and_write(thief: FlaskClient, visit_id: int) -> bool:
    page = thief.get("/staff/patients")
    if page.status_code != 200:
        return False
    weighed = thief.post(
        f"/staff/visits/{visit_id}/clinical",
        data={"csrf_token": csrf_of(page.text), "sample_date": "2026-01-01", "value_WEIGHT": "61.0"},
    )
    return weighed.status_code == 302 and "/staff/login" not in weighed.location


@pytest.fixture
def signed_in(world, client, app):  # type: ignore[no-untyped-def]
    world.staff("nurse1")
    world.staff("admin1", role="admin")
    visit = world.visit(world.patient(day0_offset=-30), "M1")
    assert sign_in(client, "nurse1").status_code == 302
    thief = _copy_of(client, app)
    assert _can_read_and_write(thief, visit.id)  # the copy works while the session lives
    return thief, visit


def _weights(world, visit: Visit) -> list[object]:  # type: ignore[no-untyped-def]
    with world.session() as s:
        return list(s.exec(select(ClinicalValue.value_number).where(ClinicalValue.visit_id == visit.id)))


def test_a_copied_cookie_is_refused_after_sign_out(world, client, signed_in):
    thief, _visit = signed_in
    home = client.get("/staff/")
    client.post("/staff/logout", data={"csrf_token": csrf_of(home.text)})
    other_visit = world.visit(world.patient("EPR-102", day0_offset=-30), "M1")
    assert not _can_read_and_write(thief, other_visit.id)
    assert "/staff/login" in thief.get("/staff/patients").location
    assert _weights(world, other_visit) == []


def _as_admin(app: Flask):  # type: ignore[no-untyped-def]
    admin = app.test_client()
    assert sign_in(admin, "admin1").status_code == 302
    return admin


def _nurse_id(world) -> int:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    with world.session() as s:
        return s.exec(select(StaffUser.id).where(StaffUser.username == "nurse1")).one()


def test_a_copied_cookie_is_refused_after_an_admin_resets_the_password(world, app, client, signed_in):
    thief, visit = signed_in
    admin = _as_admin(app)
    user_id = _nurse_id(world)
    page = admin.get(f"/staff/admin/users/{user_id}")
    reset = admin.post(
        f"/staff/admin/users/{user_id}/password",
        data={"csrf_token": csrf_of(page.text), "password": "a brand new passphrase"},
    )
    assert reset.status_code == 302
    assert not _can_read_and_write(thief, visit.id)
    assert client.get("/staff/").status_code == 302  # the nurse's own browser too: every session ends
    assert sign_in(app.test_client(), "nurse1", "a brand new passphrase").status_code == 302


@pytest.mark.parametrize("change", ["role", "active"])
def test_a_role_change_or_deactivation_ends_every_session(world, app, signed_in, change):
    thief, _visit = signed_in
    admin = _as_admin(app)
    user_id = _nurse_id(world)
    csrf = csrf_of(admin.get(f"/staff/admin/users/{user_id}").text)
    data = {"csrf_token": csrf, "role": "investigator"} if change == "role" else {"csrf_token": csrf}
    assert admin.post(f"/staff/admin/users/{user_id}/{change}", data=data).status_code == 302
    assert thief.get("/staff/patients").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_active(world, client, app):
    world.staff("nurse1")
    sign_in(client, "nurse1")
    with client.session_transaction() as session:
        session["staff_since"] = time.time() - 13 * 3600  # signed in 13 hours ago, active all along
    assert client.get("/staff/").status_code == 302


def test_a_session_within_both_lifetimes_goes_on(world, client):
    world.staff("nurse1")
    sign_in(client, "nurse1")
    with client.session_transaction() as session:
        session["staff_since"] = time.time() - 11 * 3600
    assert client.get("/staff/").status_code == 200
