"""Many tablets at once on the real app under gunicorn, on a real SQLite file: nothing lost, nothing
doubled, and workers killed mid-request (SIGKILL) leave no half-saved visit.

Run with `-s` to see the figures each test prints.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, sign_in
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


def _figures(traffic: Traffic, seconds: float) -> str:
    return (
        f"{traffic.requests} requests in {seconds:.1f} s ({traffic.requests / seconds:.0f}/s), "
        f"5xx: {traffic.count_5xx}, latency p50 {traffic.latency(0.5) * 1000:.0f} ms, "
        f"p95 {traffic.latency(0.95) * 1000:.0f} ms, max {traffic.latency(1.0) * 1000:.0f} ms"
    )


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
        seconds = run_together(tablets)
        errors = server.error_summary()

    stored = stored_visits(url)
    answers = sum(len(record.responses) for record in stored.values())
    taps = [tablet.tap_statuses for tablet in tablets if tablet.double_tap]
    chain = audit_chain(url)
    print(
        f"\nload: {TABLETS} tablets on {WORKERS} gunicorn sync workers: {answers} answers stored of "
        f"{sum(len(t.answers) for t in tablets)} given, {_figures(traffic, seconds)}; "
        f"{len(taps)} double-tapped submits answered {sorted({tuple(t) for t in taps})}; "
        f"audit chain intact: {chain.intact} ({chain.events} events)"
    )
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
        seconds = run_together(tablets)
        killer.stop()
        errors = server.error_summary()
        server.wait_ready()  # the master replaced every killed worker and serves again

        integrity = sqlite_integrity(database)
        after_crash = stored_visits(url)
        acknowledged = [tablet for tablet in tablets if tablet.acknowledged]
        unfinished = [tablet for tablet in tablets if not tablet.acknowledged]
        chain = audit_chain(url)
        print(
            f"\ncrash: {len(killer.victims)} workers SIGKILLed mid-load and survived; "
            f"{traffic.cuts} requests cut off (and sent again); {_figures(traffic, seconds)}; "
            f"{len(acknowledged)} tablets acknowledged, {len(unfinished)} left in progress; "
            f"integrity_check: {integrity}; audit chain intact: {chain.intact} ({chain.events} events)"
        )
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
    print(
        f"after the crash: {len(again)} interrupted tablets resumed and submitted; all {TABLETS} visits whole"
    )
    assert audit_chain(url).intact


@pytest.mark.production_passwords  # the check must cost what it costs in a clinic
def test_a_sign_in_does_not_hold_the_write_lock_while_it_checks_the_password(app, world, client):
    """Tablets must keep saving while nurses sign in: the slow password check runs outside the lock.

    A probe tries to take SQLite's write lock without waiting, again and again, while a nurse signs in;
    the longest stretch it finds the lock taken is compared, side by side, with one password check.
    """
    from epro.passwords import hash_password, verify_password

    world.staff("nurse1")
    stretches: list[float] = []
    done = threading.Event()

    def probe() -> None:
        connection = sqlite3.connect(
            app.extensions["epro_engine"].url.database, timeout=0, isolation_level=None
        )
        held_since = None
        while not done.is_set():
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                if held_since is not None:
                    stretches.append(time.perf_counter() - held_since)
                    held_since = None
            except sqlite3.OperationalError:
                held_since = held_since or time.perf_counter()
            time.sleep(0.001)
        connection.close()

    prober = threading.Thread(target=probe)
    prober.start()
    assert sign_in(client, "nurse1").status_code == 302
    done.set()
    prober.join()
    stored = hash_password(PASSWORD)
    started = time.perf_counter()
    verify_password(stored, PASSWORD)
    one_check = time.perf_counter() - started
    longest = max(stretches, default=0.0)
    print(
        f"\nlongest write-lock hold during a sign-in: {longest * 1000:.0f} ms; "
        f"one password check: {one_check * 1000:.0f} ms"
    )
    assert longest < one_check / 2
