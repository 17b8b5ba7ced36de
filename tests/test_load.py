"""Many tablets at once on the real app under gunicorn, on a real SQLite file: nothing lost, nothing
doubled, and workers killed mid-request (SIGKILL) leave no half-saved visit.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import sign_in
from tests.gunicorn_harness import (
    Browser,
    Clinic,
    GunicornServer,
    RemoteTablet,
    Traffic,
    VisitRecord,
    WorkerKiller,
    app_env,
    audit_chain,
    prepare_clinic,
    random_answers,
    run_together,
    sqlite_integrity,
    stored_visits,
)

pytestmark = pytest.mark.sqlite_only(reason="one SQLite file under gunicorn; PostgreSQL: test_two_servers.py")

TABLETS = 40
WORKERS = 4
KILLS = 8


def _tablets(
    clinic: Clinic, port: int, traffic: Traffic, *, retries: int = 0, seed: int = 5
) -> list[RemoteTablet]:
    """One tablet per visit, half in Korean and half in English, every fourth one double-tapping Submit.

    With retries, every other tablet sends a request a crash cut off again (a person pressing the
    button again); the others give up at the first cut (the patient hands the tablet back)."""
    rng = random.Random(seed)
    return [
        RemoteTablet(
            Browser(port, traffic=traffic, retries=retries if number % 2 else 0),
            clinic.nurses[number % len(clinic.nurses)],
            clinic.password,
            visit_id,
            random_answers(instruments, rng),
            language="ko" if number % 2 else "en",
            double_tap=number % 4 == 0,
        )
        for number, (visit_id, instruments) in enumerate(clinic.visits.items())
    ]


def _whole_or_untouched(record: VisitRecord, items: int) -> bool:
    """A visit is fully submitted (every answer, no drafts left) or not submitted at all (no answer)."""
    live = [state for state in record.session_states if state != "cancelled"]
    if live == ["submitted"]:
        return len(record.responses) == items and record.drafts == 0
    return live in ([], ["in_progress"]) and record.responses == []


def test_forty_tablets_at_once_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'load.sqlite3'}"
    clinic = prepare_clinic(url, patients=TABLETS)
    traffic = Traffic()
    with GunicornServer(app_env(url), tmp_path, workers=WORKERS) as server:
        tablets = _tablets(clinic, server.port, traffic)
        run_together(tablets)
        errors = server.error_summary()

    stored = stored_visits(url)
    answers = sum(len(record.responses) for record in stored.values())
    taps = [tablet.tap_statuses for tablet in tablets if tablet.double_tap]
    chain = audit_chain(url)
    assert traffic.count_5xx == 0, (traffic.server_errors[:5], errors)
    failures = [tablet.outcome for tablet in tablets if tablet.outcome != "thanks"]
    assert failures == [], failures[:5]
    assert traffic.cuts == 0
    assert not errors, errors
    for tablet in tablets:
        record = stored[tablet.visit_id]
        assert record.session_states == ["submitted"], (tablet.visit_id, record)
        assert record.responses == tablet.answers, (tablet.visit_id, record, tablet.answers)
        assert record.drafts == 0
    assert answers == sum(len(tablet.answers) for tablet in tablets)
    assert taps and all(statuses == [302, 409] for statuses in taps), taps
    assert chain.intact, chain


def test_workers_killed_mid_request_leave_no_half_saved_visit(tmp_path: Path) -> None:
    database = tmp_path / "crash.sqlite3"
    url = f"sqlite:///{database}"
    clinic = prepare_clinic(url, patients=TABLETS)
    traffic = Traffic()
    with GunicornServer(app_env(url), tmp_path, workers=WORKERS) as server:
        tablets = _tablets(clinic, server.port, traffic, retries=8)
        killer = WorkerKiller(server, traffic, kills=KILLS, every=0.2, after_requests=40)
        killer.start()
        run_together(tablets)
        killer.stop()
        errors = server.error_summary()
        server.wait_ready()  # the master replaced every killed worker and serves again

        integrity = sqlite_integrity(database)
        after_crash = stored_visits(url)
        acknowledged = [tablet for tablet in tablets if tablet.acknowledged]
        unfinished = [tablet for tablet in tablets if not tablet.acknowledged]
        chain = audit_chain(url)
        # How many kills fit in the run depends on the machine's speed; what matters is that workers died
        # mid-request (cuts) and nothing was lost or half saved.
        assert 1 <= len(killer.victims) <= KILLS
        assert traffic.cuts >= 1, "the kills landed in the middle of requests"
        assert integrity == ["ok"]
        assert traffic.count_5xx == 0, (traffic.server_errors[:5], errors)
        for tablet in tablets:
            record = after_crash[tablet.visit_id]
            assert _whole_or_untouched(record, len(tablet.answers)), (tablet.visit_id, tablet.outcome, record)
        for tablet in acknowledged:
            assert after_crash[tablet.visit_id].responses == tablet.answers, (tablet.visit_id, tablet.outcome)
        assert chain.intact, chain

        # Every tablet the crash interrupted is handed over again and finishes: nothing was stuck.
        retry = Traffic()
        again = _tablets(clinic, server.port, retry, seed=5)
        again = [tablet for tablet in again if tablet.visit_id in {t.visit_id for t in unfinished}]
        if again:
            run_together(again)
        assert all(tablet.acknowledged for tablet in again), [t.outcome for t in again]
    final = stored_visits(url)
    for tablet in tablets:
        assert final[tablet.visit_id].session_states[-1:] == ["submitted"], tablet.visit_id
        assert final[tablet.visit_id].responses == tablet.answers
    assert audit_chain(url).intact


def test_a_sign_in_does_not_hold_the_write_lock_while_it_checks_the_password(app, world, client, monkeypatch):
    """Tablets must keep saving while nurses sign in: the slow password check runs outside the lock.

    Each time the sign-in checks a password, another connection takes SQLite's write lock without
    waiting, then the real check runs.
    """
    from epro.passwords import verify_password
    from epro.staff import auth

    world.staff("nurse1")
    lock_free_during_checks: list[bool] = []

    def check_with_another_writer(password_hash: str | None, password: str) -> bool:
        with closing(
            sqlite3.connect(app.extensions["epro_engine"].url.database, timeout=0, isolation_level=None)
        ) as other:
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                lock_free_during_checks.append(True)
            except sqlite3.OperationalError:
                lock_free_during_checks.append(False)
        return verify_password(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", check_with_another_writer)
    assert sign_in(client, "nurse1").status_code == 302
    assert lock_free_during_checks == [True]
