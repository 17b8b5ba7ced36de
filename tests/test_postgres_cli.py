"""The flask commands on a PostgreSQL database, and the pg_dump / pg_restore backup of docs/deploy.md.

Runs in both suite runs (it always uses PostgreSQL): init-db from an empty database is the path a new
multi-site installation takes, which the per-test databases (copies of a migrated template) skip.
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, func, select

from epro import create_app, db, demo, migrate
from epro.clock import clinic_today, clinic_zone
from epro.models import AuditEvent, ClinicalValue, Response, StaffUser
from epro.schedule import load_protocol
from tests.databases import find_bindir, postgres


def postgres_app(url: str) -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "cli-test", "DATABASE_URL": url})


@pytest.fixture
def app_on_empty_postgres(empty_postgres_url: str) -> Iterator[Flask]:
    app = postgres_app(empty_postgres_url)
    yield app
    app.extensions["epro_engine"].dispose()


def flask_command(app: Flask, *args: str, input: str | None = None) -> Result:
    """`flask --app epro ARGS...` as the flask command runs it: inside an app context."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args), input=input)


def libpq_url(url: str) -> str:
    """pg_dump and psql take the URL without SQLAlchemy's driver suffix (postgresql://, not +psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def counts(app: Flask) -> tuple[int, int]:
    with Session(app.extensions["epro_engine"]) as s:
        return (
            s.exec(select(func.count()).select_from(Response)).one(),
            s.exec(select(func.count()).select_from(AuditEvent)).one(),
        )


def test_init_db_and_create_user_on_an_empty_postgresql_database(app_on_empty_postgres):
    first = flask_command(app_on_empty_postgres, "init-db")
    assert first.exit_code == 0, first.output
    with app_on_empty_postgres.app_context():
        head = migrate.current_revision(db.engine())
    assert head is not None and f"Database at revision {head};" in first.output
    assert " 0 instrument version(s) added" not in first.output
    again = flask_command(app_on_empty_postgres, "init-db")
    assert again.exit_code == 0 and "0 instrument version(s) added" in again.output, again.output

    password = "long enough 1\n" * 2  # asked twice
    created = flask_command(app_on_empty_postgres, "create-user", "nurse7", "--role", "nurse", input=password)
    assert created.exit_code == 0 and "Created nurse nurse7." in created.output, created.output
    twice = flask_command(app_on_empty_postgres, "create-user", "nurse7", "--role", "nurse", input=password)
    assert twice.exit_code != 0 and "already exists" in twice.output
    with Session(app_on_empty_postgres.extensions["epro_engine"]) as s:
        assert s.exec(select(StaffUser.username, StaffUser.role)).all() == [("nurse7", "nurse")]


def test_pg_dump_and_pg_restore_carry_the_study_and_its_append_only_audit_trail(
    app_on_empty_postgres, tmp_path: Path
):
    app = app_on_empty_postgres
    assert flask_command(app, "init-db").exit_code == 0
    with app.app_context(), db.unit_of_work() as session:
        demo.seed(session, load_protocol(app.config["PROTOCOL"]), clinic_today(), clinic_zone())
    export = flask_command(app, "export", "--format", "long", "-o", str(tmp_path / "long.csv"))
    assert export.exit_code == 0, export.output
    seeded = counts(app)  # (answers, audit events): the export is audited too
    assert seeded[0] > 0, "the demo study has answers"
    with Session(app.extensions["epro_engine"]) as s:
        clinical_values = s.exec(select(func.count()).select_from(ClinicalValue)).one()
    assert clinical_values > 0, "the demo study has clinical values"
    with (tmp_path / "long.csv").open(encoding="utf-8-sig") as handle:
        rows = len(list(csv.reader(handle)))
    assert rows == 1 + seeded[0] + clinical_values, "a header and one row per answer and per clinical value"

    # The commands of docs/deploy.md: a custom-format dump, restored into a new, empty database.
    dump = tmp_path / "epro.dump"
    bindir = find_bindir()
    source = app.config["DATABASE_URL"]
    subprocess.run([bindir / "pg_dump", "--format=custom", f"--file={dump}", libpq_url(source)], check=True)
    restored_url = postgres.new(migrated=False)
    subprocess.run(
        [bindir / "pg_restore", "--no-owner", f"--dbname={libpq_url(restored_url)}", dump], check=True
    )

    restored = postgres_app(restored_url)
    try:
        assert counts(restored) == seeded
        verified = flask_command(restored, "audit", "verify")
        assert verified.exit_code == 0 and f"intact: {seeded[1]} events" in verified.output, verified.output
        with pytest.raises(DBAPIError, match="append-only"), restored.extensions["epro_engine"].begin() as c:
            c.execute(sa.text("DELETE FROM audit_event"))
    finally:
        restored.extensions["epro_engine"].dispose()
