"""The Alembic migrations build the same schema on SQLite and on PostgreSQL, and it matches the models.

Runs in both suite runs: it always migrates one empty SQLite file and one empty PostgreSQL database.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from epro import migrate
from epro.db import make_engine

Schema = dict[str, dict[str, Any]]


def _type(column: dict[str, Any]) -> str:
    """Dialect types to one spelling: VARCHAR(16) and character varying(16) are both String(16)."""
    generic = column["type"].as_generic()
    details = [getattr(generic, attr, None) for attr in ("length", "precision", "scale")]
    shown = ",".join(str(d) for d in details if d is not None)
    return f"{type(generic).__name__}({shown})"


def _predicate(where: Any) -> str:
    """A partial index's WHERE, without PostgreSQL's casts, brackets and spacing."""
    text = str(where).lower().replace("!=", "<>")
    text = re.sub(r"::[a-z ]+", "", text)
    return re.sub(r"[()\s]", "", text)


def _own_name(name: str | None, table: str, columns: list[str], suffix: str) -> str | None:
    """The name we gave a constraint; None for one PostgreSQL made up (table_col_key) or SQLite left out."""
    return None if name in (None, f"{table}_{'_'.join(columns)}_{suffix}") else name


def _indexes(inspector: sa.Inspector, table: str) -> list[tuple[Any, ...]]:
    """Indexes on columns as reflected; an index on an expression is compared by its definition instead
    (SQLAlchemy does not reflect those on SQLite)."""
    rows = []
    for index in inspector.get_indexes(table):
        if "duplicates_constraint" in index:  # PostgreSQL's index behind a unique constraint
            continue
        if None in index["column_names"]:  # PostgreSQL's reflection of an expression index
            continue
        options = index.get("dialect_options", {})
        where = options.get("sqlite_where", options.get("postgresql_where"))
        rows.append(
            (
                index["name"],
                tuple(index["column_names"]),
                bool(index["unique"]),
                None if where is None else _predicate(where),
            )
        )
    return sorted(rows)


def _definition(sql: str) -> str:
    """CREATE INDEX as the database keeps it, without PostgreSQL's schema, method, case and brackets."""
    return re.sub(r"public\.|using btree|[()\s]", "", sql.lower())


def _expression_indexes(engine: sa.Engine, inspector: sa.Inspector, table: str) -> list[str]:
    """The definitions of the table's indexes on expressions: on PostgreSQL reflected without a column
    name, on SQLite not reflected at all."""
    reflected = inspector.get_indexes(table)
    if engine.dialect.name == "postgresql":
        names = {i["name"] for i in reflected if None in i["column_names"]}
        catalogue = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :table"
    else:
        names = None
        catalogue = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL"
    with engine.connect() as connection:
        definitions = dict(connection.execute(sa.text(catalogue), {"table": table}).all())
    if names is None:
        names = set(definitions) - {i["name"] for i in reflected}
    return sorted(_definition(definitions[name]) for name in names)


def schema_of(engine: sa.Engine) -> Schema:
    with warnings.catch_warnings():  # SQLite's reflection skips the expression indexes: compared apart
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        return _schema_of(engine)


def _schema_of(engine: sa.Engine) -> Schema:
    inspector = sa.inspect(engine)
    schema: Schema = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [(c["name"], _type(c), c["nullable"]) for c in inspector.get_columns(table)],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "unique": sorted(
                (_own_name(u["name"], table, u["column_names"], "key"), tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "foreign keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    tuple(sorted(fk["options"].items())),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": _indexes(inspector, table),
            "expression indexes": _expression_indexes(engine, inspector, table),
            "checks": sorted(c["name"] for c in inspector.get_check_constraints(table)),
        }
    return schema


@pytest.fixture
def migrated_engines(tmp_path: Path, empty_postgres_url: str) -> dict[str, sa.Engine]:
    engines = {
        "sqlite": make_engine(f"sqlite:///{tmp_path / 'parity.sqlite3'}"),
        "postgresql": make_engine(empty_postgres_url),
    }
    for engine in engines.values():
        migrate.upgrade(engine)
    yield engines
    for engine in engines.values():
        engine.dispose()


def test_migrations_build_the_same_schema_on_sqlite_and_postgresql(migrated_engines):
    sqlite, postgresql = (schema_of(migrated_engines[name]) for name in ("sqlite", "postgresql"))
    assert sorted(sqlite) == sorted(postgresql), "same tables"
    for table in sqlite:
        for aspect in sqlite[table]:
            assert sqlite[table][aspect] == postgresql[table][aspect], f"{table}: {aspect} differ"
    # The comparison sees what matters: the partial unique index and the named checks are there.
    indexes = dict((i[0], i) for i in sqlite["questionnaire_session"]["indexes"])
    assert indexes["uq_session_live_per_visit"] == (
        "uq_session_live_per_visit",
        ("visit_id",),
        True,
        "state<>'cancelled'",
    )
    assert "ck_patient_sex" in sqlite["patient"]["checks"]
    assert sqlite["visit"]["expression indexes"] == [
        "createindexix_visit_appointmentonvisitcoalescescheduled_date,target_date,window_end"
    ]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrated_schema_matches_the_models(migrated_engines, dialect):
    """No drift: what Alembic would autogenerate from the models against the migrated database is nothing."""
    with migrated_engines[dialect].connect() as connection, warnings.catch_warnings():
        # SQLite: neither SQLAlchemy nor Alembic reflects an index on an expression; the test above compares
        # its definition with PostgreSQL's, where Alembic compares it with the models.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_audit_trail_is_append_only_in_the_database(migrated_engines, dialect):
    engine = migrated_engines[dialect]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit_event (at, actor_type, action, entity, prev_hash, hash) "
                "VALUES (CURRENT_TIMESTAMP, 'system', 'test', 'nothing', :zero, 'h1')"
            ),
            {"zero": "0" * 64},
        )
    for statement in ("UPDATE audit_event SET reason = 'tampered'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="audit_event is append-only"), engine.begin() as connection:
            connection.execute(sa.text(statement))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT reason FROM audit_event")).all() == [(None,)]
