"""`flask --app epro backup FILE` and `restore FILE`: a consistent copy taken while the app serves, and a
restore that checks the backup first and never overwrites without confirmation."""

from __future__ import annotations

import queue
import random
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlmodel import func, select

from epro import create_app
from epro.models import AuditEvent, Response
from tests.gunicorn_harness import (
    Browser,
    GunicornServer,
    RemoteTablet,
    Traffic,
    app_env,
    audit_chain,
    flask_cli,
    prepare_clinic,
    random_answers,
    sqlite_integrity,
    stored_visits,
)
from tests.kiosk_helpers import Tablet

SQLITE = pytest.mark.sqlite_only(reason="backup and restore of a SQLite file; PostgreSQL uses pg_dump")
TABLETS = 40
#: Visits ready for the stream of tablets; they stop taking new ones once the backup is done.
VISITS = 120
#: Of those, visits handed over only once the backup is done, so answers certainly arrive after it
#: however fast the machine got through the others.
AFTER = TABLETS // 4


@SQLITE
def test_a_backup_taken_under_load_restores_every_answer_acknowledged_before_it(tmp_path: Path) -> None:
    database = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{database}"
    clinic = prepare_clinic(url, patients=VISITS)
    env = app_env(url)
    backup = tmp_path / "backup.sqlite3"
    traffic = Traffic()
    rng = random.Random(7)
    waiting: queue.SimpleQueue[tuple[int, int, list[int]]] = queue.SimpleQueue()
    reserved: queue.SimpleQueue[tuple[int, int, list[int]]] = queue.SimpleQueue()
    for number, (visit_id, instruments) in enumerate(clinic.visits.items()):
        (reserved if number >= VISITS - AFTER else waiting).put(
            (number, visit_id, random_answers(instruments, rng))
        )
    tablets: list[RemoteTablet] = []
    backup_done = threading.Event()

    with GunicornServer(env, tmp_path, workers=4) as server:

        def hand_over(number: int, visit_id: int, answers: list[int]) -> None:
            nurse = clinic.nurses[number % len(clinic.nurses)]
            tablet = RemoteTablet(
                Browser(server.port, traffic=traffic), nurse, clinic.password, visit_id, answers
            )
            tablets.append(tablet)
            tablet.run()

        def keep_handing_tablets_over() -> None:
            """One clinic tablet: visit after visit until the backup is done (once the visits run out, a
            nurse keeps opening the sign-in page), then one of the visits kept for after the backup."""
            while not backup_done.is_set():
                try:
                    hand_over(*waiting.get_nowait())
                except queue.Empty:
                    Browser(server.port, traffic=traffic).get("/staff/login")
                    time.sleep(0.05)
            try:
                hand_over(*reserved.get_nowait())
            except queue.Empty:
                return

        streams = [threading.Thread(target=keep_handing_tablets_over) for _ in range(TABLETS)]
        for stream in streams:
            stream.start()
        while sum(t.acknowledged for t in list(tablets)) < TABLETS // 4 and any(
            s.is_alive() for s in streams
        ):
            time.sleep(0.05)
        acknowledged_before = [t for t in list(tablets) if t.acknowledged]
        requests_before = traffic.requests
        taken = flask_cli(env, "backup", str(backup))
        finished, requests_during = time.monotonic(), traffic.requests - requests_before
        backup_done.set()
        for stream in streams:
            stream.join(timeout=300)
        errors = server.error_summary()
    assert taken.returncode == 0, taken.stderr
    assert traffic.count_5xx == 0, (traffic.server_errors[:5], errors)
    assert all(t.outcome == "thanks" for t in tablets), [t.outcome for t in tablets if t.outcome != "thanks"]

    restored = flask_cli(env, "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert sqlite_integrity(database) == ["ok"]
    after = stored_visits(url)
    submitted_after = [t for t in tablets if t.submit_sent_at and t.submit_sent_at > finished]
    chain = audit_chain(url)
    for tablet in acknowledged_before:
        assert after[tablet.visit_id].responses == tablet.answers, tablet.visit_id
    assert submitted_after, "the app was still taking answers when the backup was done"
    for tablet in submitted_after:
        assert after[tablet.visit_id].responses == [], "the backup is the moment it was taken"
    for visit_id, instruments in clinic.visits.items():
        record = after[visit_id]
        assert len(record.responses) in (0, len(instruments.split())), (visit_id, record)
        assert record.responses == [] or record.session_states[-1] == "submitted"
    assert requests_during > 0, "the app kept serving while the backup ran"
    assert chain.intact
    assert "Restored" in restored.stdout and "before-restore" in restored.stdout


# --- the commands themselves, on the test app --------------------------------------------------


def _submit(world, client, study_id: str) -> int:  # type: ignore[no-untyped-def]
    visit = world.visit(world.patient(study_id), "BL")
    tablet = Tablet(client)
    tablet.start("nurse1", visit.id)
    assert tablet.complete().location.endswith("/tablet/thanks")
    return visit.id


def _answers(world) -> int:  # type: ignore[no-untyped-def]
    with world.session() as s:
        return s.exec(select(func.count()).select_from(Response)).one()


def _actions(world) -> list[str]:  # type: ignore[no-untyped-def]
    with world.session() as s:
        return list(s.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all())


@SQLITE
def test_restore_brings_back_the_backup_and_keeps_the_replaced_database(app, world, client, tmp_path):
    world.staff()
    _submit(world, client, "EPR-101")
    runner = app.test_cli_runner()
    backup = tmp_path / "monday.sqlite3"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and "3 answers" in result.output
    assert _actions(world)[-1] == "database.backup"
    _submit(world, client, "EPR-102")
    assert _answers(world) == 6

    result = runner.invoke(args=["restore", str(backup)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "holds 3 answers" in result.output and "now holds 6 answers" in result.output
    assert _answers(world) == 3
    assert _actions(world)[-1] == "database.restore"
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    kept = next(tmp_path.glob("*.before-restore-*"))
    with closing(sqlite3.connect(kept)) as replaced:
        assert replaced.execute("SELECT count(*) FROM response").fetchone() == (6,)
    # The restored database works: the second patient can answer again.
    world_visit = _submit(world, client, "EPR-103")
    assert world_visit and _answers(world) == 6


@SQLITE
def test_restore_without_confirmation_changes_nothing(app, world, client, tmp_path):
    world.staff()
    _submit(world, client, "EPR-101")
    runner = app.test_cli_runner()
    backup = tmp_path / "b.sqlite3"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    _submit(world, client, "EPR-102")
    result = runner.invoke(args=["restore", str(backup)], input="n\n")
    assert result.exit_code != 0 and "Aborted" in result.output
    assert _answers(world) == 6
    assert not list(tmp_path.glob("*.before-restore-*"))


@SQLITE
def test_backup_never_overwrites_a_file(app, tmp_path):
    existing = tmp_path / "keep.sqlite3"
    existing.write_bytes(b"precious")
    result = app.test_cli_runner().invoke(args=["backup", str(existing)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert existing.read_bytes() == b"precious"


@SQLITE
def test_restore_refuses_a_damaged_foreign_or_tampered_backup(app, world, client, tmp_path):
    world.staff()
    _submit(world, client, "EPR-101")
    runner = app.test_cli_runner()
    good = tmp_path / "good.sqlite3"
    assert runner.invoke(args=["backup", str(good)]).exit_code == 0

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    foreign = tmp_path / "foreign.sqlite3"
    with closing(sqlite3.connect(foreign)) as other:
        other.execute("CREATE TABLE notes (text)")
        other.commit()
    tampered = tmp_path / "tampered.sqlite3"
    tampered.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(tampered)) as forged:
        forged.execute("DROP TRIGGER audit_event_no_update")
        forged.execute("UPDATE audit_event SET new_value = '100' WHERE action = 'response.submit'")
        forged.commit()

    for bad, why in (
        (garbage, "refusing"),
        (truncated, "refusing"),
        (foreign, "not an epro database"),
        (tampered, "audit trail is broken"),
    ):
        result = runner.invoke(args=["restore", str(bad), "--yes"])
        assert result.exit_code != 0, bad
        assert why in result.output and "Nothing was changed" in result.output, (bad, result.output)
        assert "Traceback" not in result.output
    assert _answers(world) == 3
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_on_postgresql_the_commands_point_to_pg_dump(tmp_path):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "postgresql+psycopg://epro@127.0.0.1:9/epro"}
    )
    runner = app.test_cli_runner()
    for args in (["backup", str(tmp_path / "x.dump")], ["restore", __file__, "--yes"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert "pg_dump" in result.output and "pg_restore" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "x.dump").exists()
