"""Admins manage staff accounts: create, change role, deactivate and reactivate, reset a password."""

from __future__ import annotations

from sqlmodel import select

from epro.models import AuditEvent, StaffUser
from tests.conftest import csrf_of, sign_in


def _account(world, username):  # type: ignore[no-untyped-def]
    with world.session() as s:
        return s.exec(select(StaffUser).where(StaffUser.username == username)).one()


def test_admin_creates_changes_deactivates_and_resets_an_account(world, client, app):
    world.staff("boss", "admin")
    sign_in(client, "boss")
    csrf = csrf_of(client.get("/staff/admin/users").text)

    weak = client.post(
        "/staff/admin/users",
        data={
            "csrf_token": csrf,
            "username": "new.nurse",
            "role": "nurse",
            "preferred_language": "en",
            "password": "short",
        },
    )
    assert weak.status_code == 400 and "10자 이상" in weak.text
    created = client.post(
        "/staff/admin/users",
        data={
            "csrf_token": csrf,
            "username": "new.nurse",
            "role": "nurse",
            "preferred_language": "en",
            "password": "a long enough one",
        },
    )
    assert created.status_code == 302
    account = _account(world, "new.nurse")
    assert (account.role, account.preferred_language, account.is_active) == ("nurse", "en", True)
    assert sign_in(app.test_client(), "new.nurse", "a long enough one").status_code == 302

    client.post(f"/staff/admin/users/{account.id}/role", data={"csrf_token": csrf, "role": "investigator"})
    assert _account(world, "new.nurse").role == "investigator"

    client.post(f"/staff/admin/users/{account.id}/active", data={"csrf_token": csrf})
    assert not _account(world, "new.nurse").is_active
    assert sign_in(app.test_client(), "new.nurse", "a long enough one").status_code == 401
    client.post(f"/staff/admin/users/{account.id}/active", data={"csrf_token": csrf})
    assert _account(world, "new.nurse").is_active

    client.post(
        f"/staff/admin/users/{account.id}/password", data={"csrf_token": csrf, "password": "another long one"}
    )
    assert sign_in(app.test_client(), "new.nurse", "a long enough one").status_code == 401
    assert sign_in(app.test_client(), "new.nurse", "another long one").status_code == 302

    with world.session() as s:
        events = s.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(account.id), AuditEvent.entity == "staff_user"
            )
        ).all()
    changes = [
        (e.action, e.field, e.old_value, e.new_value, e.actor_name)
        for e in events
        if e.action != "auth.sign_in" and e.action != "auth.sign_in_failed"
    ]
    assert changes == [
        ("staff.create", "role", None, "nurse", "boss"),
        ("staff.update", "role", "nurse", "investigator", "boss"),
        ("staff.update", "is_active", "True", "False", "boss"),
        ("staff.update", "is_active", "False", "True", "boss"),
        ("staff.password_reset", None, None, None, "boss"),
    ]


def test_an_admin_cannot_lock_themselves_out(world, client):
    boss_id = world.staff("boss", "admin")
    sign_in(client, "boss")
    csrf = csrf_of(client.get("/staff/admin/users").text)
    client.post(f"/staff/admin/users/{boss_id}/role", data={"csrf_token": csrf, "role": "nurse"})
    client.post(f"/staff/admin/users/{boss_id}/active", data={"csrf_token": csrf})
    boss = _account(world, "boss")
    assert (boss.role, boss.is_active) == ("admin", True)


def test_accounts_are_never_deleted_and_names_are_unique(world, client):
    world.staff("boss", "admin")
    world.staff("nurse1", "nurse")
    sign_in(client, "boss")
    csrf = csrf_of(client.get("/staff/admin/users").text)
    taken = client.post(
        "/staff/admin/users",
        data={
            "csrf_token": csrf,
            "username": "nurse1",
            "role": "nurse",
            "preferred_language": "ko",
            "password": "a long enough one",
        },
    )
    assert taken.status_code == 400 and "이미 사용 중인 사용자 이름" in taken.text
    assert not any(rule.endpoint.endswith("delete") for rule in client.application.url_map.iter_rules())
