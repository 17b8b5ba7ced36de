"""Fresh state for every hypothesis example, without building it again each time.

A state (a migrated database with its accounts, patients and sessions) is built once per module; each
example gets its own copy: a file copy through SQLite's backup API, or `CREATE DATABASE ... TEMPLATE` on
PostgreSQL. Cookies made while building stay valid in every copy (same rows, same secret key)."""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import make_url

from epro import create_app, db, migrate
from epro.catalog import sync_instruments
from tests.databases import database_url, on_postgres, postgres

_copies = itertools.count(1)


def detach_base(url: str) -> str:
    """Keep a PostgreSQL base database past the test that made it (the autouse fixture drops the others)."""
    if on_postgres():
        postgres.created.remove(make_url(url).database)  # type: ignore[arg-type]
    return url


def migrated_base(directory: Path, **config: object) -> tuple[Flask, str]:
    """A new base database in ``directory``, migrated and holding the instruments, kept past the test
    that made it (drop_base at the end of the module), with an app on it to build the state."""
    url = detach_base(database_url(directory))
    app = create_app({"TESTING": True, "DATABASE_URL": url, **config})
    with app.app_context():
        migrate.upgrade(db.engine())
        with db.unit_of_work() as session:
            sync_instruments(session)
    return app, url


def drop_base(url: str) -> None:
    if on_postgres():
        postgres.drop(make_url(url).database)  # type: ignore[arg-type]


def copy_database(url: str, directory: Path) -> str:
    """A new database holding exactly what `url` holds now (nothing may be connected to it)."""
    number = next(_copies)
    if on_postgres():
        name = f"epro_example_{os.getpid()}_{number}"
        copied = postgres.create(name, template=make_url(url).database)
        postgres.created.append(name)  # dropped at the end of the test
        return copied
    source = make_url(url).database
    target = directory / f"example-{number}.sqlite3"
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
    return f"sqlite:///{target}"


@contextmanager
def fresh_app(base_url: str, directory: Path, **config: object) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": copy_database(base_url, directory), **config})
    try:
        yield app
    finally:
        app.extensions["epro_engine"].dispose()
