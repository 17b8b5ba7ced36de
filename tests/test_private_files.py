"""Finding 9 of issue 14: files with study data or secrets are the owner's only (0600) from the start, and
no response but the static files may be cached (the .ics calendar, PDFs and CSVs included)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from flask import Flask

from epro import create_app, db, migrate
from epro.catalog import sync_instruments
from tests.conftest import csrf_of, sign_in


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only(reason="the SQLite file and its WAL")
def test_database_wal_backup_secret_and_demo_passwords_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: SQLite alone would create 0644 files
    try:
        instance = tmp_path / "instance"
        instance.mkdir()
        database = instance / "epro.sqlite3"
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{database}"})
        app.instance_path = str(instance)
        with app.app_context():
            migrate.upgrade(db.engine())
            with db.unit_of_work() as session:
                sync_instruments(session)
            with db.engine().connect() as connection:  # the WAL and shared-memory files exist while open
                connection.exec_driver_sql("SELECT 1")
                for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
                    assert path.exists() and _mode(path) == 0o600, path
        runner = app.test_cli_runner()
        backup = tmp_path / "backup.sqlite3"
        assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
        assert _mode(backup) == 0o600
        with app.app_context():
            assert runner.invoke(args=["seed-demo"]).exit_code == 0
        assert _mode(instance / "demo-accounts.txt") == 0o600
        app.extensions["epro_engine"].dispose()
        from epro.config import instance_secret_key

        instance_secret_key(instance)
        assert _mode(instance / "secret_key") == 0o600
    finally:
        os.umask(previous)


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    from epro.db import make_engine

    old = tmp_path / "old.sqlite3"
    old.touch()
    old.chmod(0o644)
    make_engine(f"sqlite:///{old}").dispose()
    assert _mode(old) == 0o600


def test_personal_data_responses_are_never_cached(world, app: Flask, client) -> None:
    world.staff()
    patient = world.patient(day0_offset=-3)
    sign_in(client, "nurse1")
    calendar = client.get(f"/staff/patients/{patient.id}/visits.ics")
    assert calendar.status_code == 200 and calendar.mimetype == "text/calendar"
    assert calendar.headers["Cache-Control"] == "no-store"
    assert 'filename="visits-' in calendar.headers["Content-Disposition"]
    for path in ("/staff/", f"/staff/patients/{patient.id}", "/no-such-page"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    csrf = csrf_of(client.get("/staff/").text)
    pdf = client.post(f"/reports/patients/{patient.id}/summary", data={"lang": "ko", "csrf_token": csrf})
    assert pdf.headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.headers.get("Cache-Control") != "no-store"
    static.close()
