"""Findings 6 and 7 of issue 14: the brake on failed sign-ins lives in the database (per account and per
address, across workers), locks an account for a while (audited, shown to admins) but never shuts a shared
address out for good; and an unknown user name costs as long as a known one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher, extract_parameters
from flask import Flask
from sqlmodel import select

from epro.models import AuditEvent, SignInFailure
from tests.conftest import PASSWORD, csrf_of, sign_in


def _configure(app: Flask, **settings: int) -> None:
    app.config.update({f"SIGNIN_{key.upper()}": value for key, value in settings.items()})


def _time_passes(world, minutes: float) -> None:  # type: ignore[no-untyped-def]
    """Move every recorded failure back in time, as if the clock had moved on."""
    with world.session() as s:
        for failure in s.exec(select(SignInFailure)).all():
            failure.at -= timedelta(minutes=minutes)
            s.add(failure)
        s.commit()


def test_an_account_is_locked_after_repeated_failures_audited_and_shown_to_admins(world, app, client):
    _configure(app, account_delay_after=100, account_lock_after=4)
    world.staff("nurse1")
    world.staff("admin1", role="admin")
    for _attempt in range(4):
        assert sign_in(client, "nurse1", "guess").status_code == 401
    locked = sign_in(client, "nurse1")  # the right password, from anywhere, while the lock holds
    assert locked.status_code == 429 and "계정이 잠겼습니다" in locked.text
    with world.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "auth.account_locked")).all()
    assert [event.actor_name for event in events] == ["nurse1"]

    admin = app.test_client()
    assert sign_in(admin, "admin1").status_code == 302
    accounts = admin.get("/staff/admin/users").text
    assert "로그인 실패로 잠김" in accounts
    _time_passes(world, 16)  # the lock is temporary
    assert sign_in(app.test_client(), "nurse1").status_code == 302
    assert "로그인 실패로 잠김" not in admin.get("/staff/admin/users").text


def test_an_admin_password_reset_lifts_the_lock(world, app, client):
    _configure(app, account_delay_after=100, account_lock_after=2)
    nurse_id = world.staff("nurse1")
    world.staff("admin1", role="admin")
    for _attempt in range(2):
        sign_in(client, "nurse1", "guess")
    admin = app.test_client()
    sign_in(admin, "admin1")
    page = admin.get(f"/staff/admin/users/{nurse_id}")
    admin.post(
        f"/staff/admin/users/{nurse_id}/password",
        data={"csrf_token": csrf_of(page.text), "password": "another long passphrase"},
    )
    assert sign_in(app.test_client(), "nurse1", "another long passphrase").status_code == 302


def test_unknown_names_are_braked_like_real_ones(world, app, client):
    _configure(app, account_delay_after=100, account_lock_after=2)
    for _attempt in range(2):
        assert sign_in(client, "nobody-here", "guess").status_code == 401
    assert sign_in(client, "nobody-here", "guess").status_code == 429


def test_a_shared_address_is_slowed_down_but_the_right_password_gets_through_later(world, app, client):
    _configure(app, address_delay_after=3, account_delay_after=100)
    world.staff("nurse1")
    for name in ("intruder1", "intruder2", "intruder3"):
        assert sign_in(client, name, "guess").status_code == 401
    colleague = app.test_client()  # same clinic address
    waiting = sign_in(colleague, "nurse1")
    assert waiting.status_code == 429 and "초 뒤에 다시 시도해 주십시오" in waiting.text
    _time_passes(world, 1.5)  # the delay has passed: not a permanent refusal
    assert sign_in(colleague, "nurse1").status_code == 302


def test_a_success_clears_the_account_failures(world, app, client):
    world.staff("nurse1")
    for _round in range(3):
        for _attempt in range(2):
            assert sign_in(client, "nurse1", "guess").status_code == 401
        assert sign_in(client, "nurse1").status_code == 302


def _verified_hashes(client, username: str, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The Argon2 hashes one failed sign-in as `username` verified (argon2's own verify, called through)."""
    verified: list[str] = []
    real_verify = PasswordHasher.verify

    def verify(hasher: PasswordHasher, hash: str | bytes, password: str | bytes) -> Literal[True]:
        verified.append(hash if isinstance(hash, str) else hash.decode())
        return real_verify(hasher, hash, password)

    with monkeypatch.context() as patch:
        patch.setattr(PasswordHasher, "verify", verify)
        assert sign_in(client, username, "wrong password").status_code == 401
    return verified


def test_unknown_and_known_user_names_cost_one_password_check_of_the_same_parameters(
    world, app, client, monkeypatch
):
    """Issue 14: a sign-in takes as long for an unknown name as for a real one. Either way exactly one
    Argon2 verification runs, at the same cost parameters (an unknown name checks a dummy hash)."""
    _configure(app, account_delay_after=1000, account_lock_after=1000, address_delay_after=1000)
    world.staff("nurse1")
    (known,) = _verified_hashes(client, "nurse1", monkeypatch)
    (unknown,) = _verified_hashes(client, "no-such-user", monkeypatch)
    assert known != unknown
    assert extract_parameters(known) == extract_parameters(unknown)


def test_the_account_brake_holds_across_two_gunicorn_workers(tmp_path: Path) -> None:
    """Two gunicorn servers of one worker each on one database (so the attempts surely land in two
    processes), taking turns: the failures counted by one lock the account in the other too."""
    from tests.databases import database_url
    from tests.gunicorn_harness import Browser, GunicornServer, app_env, prepare_clinic

    url = database_url(tmp_path)
    nurse = prepare_clinic(url, patients=1, nurses=1).nurses[0]
    env = app_env(url, SIGNIN_ACCOUNT_DELAY_AFTER="100", SIGNIN_ACCOUNT_LOCK_AFTER="4")
    statuses = []
    with (
        GunicornServer(env, tmp_path / "logs", workers=1) as first,
        GunicornServer(env, tmp_path / "logs", workers=1) as second,
    ):
        assert set(first.worker_pids()).isdisjoint(second.worker_pids())
        for attempt in range(6):
            browser = Browser((first, second)[attempt % 2].port)
            page = browser.get("/staff/login")
            password = PASSWORD if attempt >= 4 else "guess"
            answer = browser.post(
                "/staff/login", username=nurse, password=password, csrf_token=csrf_of(page.text)
            )
            statuses.append(answer.status)
            browser.close()
    # four failures split over two workers lock the account in both; the right password must wait
    assert statuses == [401, 401, 401, 401, 429, 429], statuses
