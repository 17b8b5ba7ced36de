"""Staff sign-in: wrong passwords recorded and slowed down, a fresh session at sign-in, an idle timeout."""

from __future__ import annotations

import time

from sqlmodel import select

from epro.models import AuditEvent
from tests.conftest import PASSWORD, csrf_of, sign_in


def test_failed_sign_ins_are_recorded_and_then_slowed_down(world, client):
    world.staff("nurse1")
    for _attempt in range(3):
        response = sign_in(client, "nurse1", "wrong password")
        assert response.status_code == 401
        assert "사용자 이름 또는 비밀번호가 올바르지 않습니다" in response.text
    blocked = sign_in(client, "nurse1")  # the fourth attempt comes too soon, even with the right password
    assert blocked.status_code == 429
    assert "초 뒤에 다시 시도해 주십시오" in blocked.text and int(blocked.headers["Retry-After"]) >= 1
    with world.session() as s:
        failures = s.exec(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).all()
    assert len(failures) == 3 and {f.actor_name for f in failures} == {"nurse1"}


def test_successful_sign_ins_do_not_count_against_the_limit(world, client):
    world.staff("nurse1")
    for _attempt in range(7):
        assert sign_in(client, "nurse1").status_code == 302


def test_sign_in_starts_a_fresh_session(world, client):
    world.staff("nurse1")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    assert sign_in(client, "nurse1").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_deactivated_account_cannot_sign_in(world, client, app):
    user_id = world.staff("nurse1")
    from epro.models import StaffUser

    with world.session() as s:
        user = s.get(StaffUser, user_id)
        user.is_active = False
        s.add(user)
        s.commit()
    assert sign_in(client, "nurse1").status_code == 401


def test_idle_staff_session_expires_with_a_clear_message(world, client, app):
    world.staff("nurse1")
    sign_in(client, "nurse1")
    assert client.get("/staff/").status_code == 200
    with client.session_transaction() as session:
        session["staff_seen"] = time.time() - 31 * 60
    expired = client.get("/staff/patients")
    assert expired.status_code == 302 and "/staff/login" in expired.location
    page = client.get(expired.location)
    assert "세션이 만료되었습니다" in page.text
    assert client.get("/staff/").status_code == 302


def test_activity_within_the_idle_period_keeps_the_session(world, client):
    world.staff("nurse1")
    sign_in(client, "nurse1")
    with client.session_transaction() as session:
        session["staff_seen"] = time.time() - 29 * 60
    assert client.get("/staff/").status_code == 200


def test_sign_out(world, client):
    world.staff("nurse1")
    sign_in(client, "nurse1")
    home = client.get("/staff/")
    client.post("/staff/logout", data={"csrf_token": csrf_of(home.text)})
    assert client.get("/staff/").status_code == 302


def test_sign_in_never_redirects_to_another_site(world, client):
    world.staff("nurse1")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        page = client.get("/staff/login")
        response = client.post(
            "/staff/login",
            query_string={"next": target},
            data={"username": "nurse1", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 302 and "evil.example" not in response.location, target
