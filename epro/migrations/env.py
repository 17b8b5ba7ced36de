"""Alembic environment: the engine comes from epro (config.attributes['engine']).

On SQLite, migrations run with foreign keys off: batch mode rebuilds a table by dropping it, which SQLite
refuses while rows of other tables point to it. Before the commit every foreign key is checked
(PRAGMA foreign_key_check), so a migration still cannot leave a dangling reference.
"""

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import epro.models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # At the driver level, outside any transaction: inside one SQLite ignores this pragma.
    connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if dangling:
                        raise RuntimeError(f"migration leaves dangling foreign keys: {dangling[:5]}")
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


run_migrations_online()
