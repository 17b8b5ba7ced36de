"""The two PostgreSQL roles of docs/deploy.md: the app role runs the study but cannot touch the audit trail.

The grants are read from docs/deploy.md itself and run as written, so the guide cannot drift from what is
tested. Runs in both suite runs (it always uses PostgreSQL).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.exc import DBAPIError

from epro import create_app, db, migrate
from epro.catalog import sync_instruments
from tests.conftest import World
from tests.databases import postgres
from tests.kiosk_helpers import Tablet

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"
_suffix = itertools.count(1)


def grants_from_the_guide() -> str:
    """The SQL block of the guide that gives epro_app its rights."""
    blocks = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    (grants,) = [block for block in blocks if "GRANT CONNECT" in block]
    return grants


@pytest.fixture
def roles() -> dict[str, str]:
    """An owner and an app role (named like the guide's, made unique on this server)."""
    n = next(_suffix)
    names = {"owner": f"epro_owner_{n}", "app": f"epro_app_{n}"}
    with postgres.admin() as admin:
        for name in names.values():
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    return names


def test_the_app_role_runs_a_tablet_visit_but_cannot_alter_the_audit_trail(roles):
    database = sa.make_url(postgres.new(migrated=False, owner=roles["owner"])).database
    assert database is not None
    owner_url, app_url = (
        postgres.url(database, user=roles["owner"]),
        postgres.url(database, user=roles["app"]),
    )

    # As the owner: the migrations, then the guide's grants.
    owner_app = create_app({"TESTING": True, "SECRET_KEY": "owner", "DATABASE_URL": owner_url})
    with owner_app.app_context():
        migrate.upgrade(db.engine())
        with db.unit_of_work() as session:
            sync_instruments(session)
    statements = (
        grants_from_the_guide()
        .replace("DATABASE epro ", f"DATABASE {database} ")
        .replace("epro_app", roles["app"])
    )
    with owner_app.extensions["epro_engine"].begin() as connection:
        connection.exec_driver_sql(statements)
    owner_app.extensions["epro_engine"].dispose()

    # As the app role: staff, enrolment and a whole tablet visit work.
    app = create_app({"TESTING": True, "SECRET_KEY": "app", "DATABASE_URL": app_url})
    try:
        world = World(app)
        world.staff("nurse1")
        visit = world.visit(world.patient("EPR-301"), "BL")
        tablet = Tablet(app.test_client())
        tablet.start("nurse1", visit.id)
        assert (tablet.complete().location or "").endswith("/tablet/thanks")

        refused = {
            "DELETE FROM audit_event": "permission denied",
            "UPDATE audit_event SET reason = 'x'": "permission denied",
            "TRUNCATE audit_event": "permission denied",
            "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only": "must be owner",
            "UPDATE alembic_version SET version_num = 'x'": "permission denied",
        }
        for statement, error in refused.items():
            with pytest.raises(DBAPIError, match=error), app.extensions["epro_engine"].begin() as c:
                c.execute(sa.text(statement))
        with app.extensions["epro_engine"].connect() as c:
            actions = c.execute(sa.text("SELECT action FROM audit_event")).scalars().all()
        assert "session.submit" in actions
    finally:
        app.extensions["epro_engine"].dispose()
