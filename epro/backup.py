"""Online backup and restore of the SQLite database: `flask --app epro backup FILE` / `restore FILE`.

The copy uses SQLite's backup API in one step: a single read transaction on the live database, so the
file holds one consistent moment while the app keeps serving (WAL readers never block writers). A
restore first proves the backup sound (SQLite integrity check, an epro schema, and `audit verify` on it:
the keyed chain, its head among the anchored ones, the replay against its tables), asks for confirmation,
keeps a safety copy of the database it replaces, and records itself in the audit trail.

The audit key (instance/audit_key) is not in the database, so not in the backup: both commands say so
and where it is. The anchor file gets a "backup" line (the copy's head) and a "restore" line.
PostgreSQL databases are backed up with pg_dump instead (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, func, select

from epro import db, migrate
from epro.audit import SYSTEM, TrailSettings, anchors, record, settings_of
from epro.audit.keys import read_key
from epro.audit.verify import Report, verify_all, verify_chain
from epro.models import AuditEvent, Response
from epro.private_files import create_private

BUSY_TIMEOUT_SECONDS = 15.0
PG_ADVICE = (
    "This database is PostgreSQL: epro's backup and restore commands handle SQLite only. Use PostgreSQL's "
    'own tools, e.g. `pg_dump --format=custom --file=epro.dump "$DATABASE_URL"` to back up and '
    '`pg_restore --clean --if-exists --dbname="$DATABASE_URL" epro.dump` to restore '
    "(see docs/reliability.md)."
)


def sqlite_path(engine: Engine) -> Path | None:
    """The database file, or None when the database is not SQLite."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database)


def integrity_problems(path: Path) -> list[str]:
    """What SQLite's integrity check finds in a database file (read-only); empty when it is sound."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            rows = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.Error as exc:
        return [f"not a readable SQLite database: {exc}"]
    if rows != ["ok"]:
        return rows
    if not {"alembic_version", "audit_event", "response"} <= tables:
        return ["not an epro database (its tables are missing)"]
    return []


def copy_database(source: Path, target: Path) -> None:
    """Copy with SQLite's backup API, all pages in one step, so the copy is one consistent snapshot."""
    with (
        closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS)) as origin,
        closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS)) as destination,
    ):
        origin.backup(destination, pages=-1)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Contents:
    responses: int
    audit_events: int


def contents(engine: Engine) -> Contents:
    with Session(engine) as session:
        return Contents(
            session.exec(select(func.count()).select_from(Response)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
        )


def read_only_engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path.resolve().as_uri()}?mode=ro&uri=true")


def take_backup(live: Path, target: Path) -> None:
    """Write a sound, self-contained copy of the live database to target (which must not exist yet)."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        create_private(partial)  # SQLite fills the empty private file; the backup is never world-readable
        copy_database(live, partial)
        with closing(sqlite3.connect(partial)) as copy:
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        problems = integrity_problems(partial)
        if problems:
            raise click.ClickException(f"the copy failed SQLite's integrity check: {problems[:5]}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the SQLite database to FILE while the app keeps serving."""
    live = sqlite_path(db.engine())
    if live is None:
        raise click.ClickException(PG_ADVICE)
    if file.exists():
        raise click.ClickException(f"{file} already exists: choose a new file name, nothing was written")
    if not file.parent.is_dir():
        raise click.ClickException(f"the folder {file.parent} does not exist, nothing was written")
    take_backup(live, file)
    digest = sha256_of(file)
    with db.unit_of_work() as session:
        record(
            session, SYSTEM, "database.backup", "database", None, field="file", new=f"{file} sha256={digest}"
        )
    settings = settings_of(db.engine())
    copy = read_only_engine(file)
    found = contents(copy)
    with Session(copy) as session:
        chain = verify_chain(session, settings.key)
    copy.dispose()
    if chain.events:
        anchors.append(settings.anchor_file, "backup", chain.chain, chain.last_id, chain.last_hash, digest)
    click.echo(
        f"Backed up to {file}: {found.responses} answers, {found.audit_events} audit events, "
        f"{file.stat().st_size} bytes, sha256 {digest}; newest audit event id {chain.last_id}, "
        f"hash {chain.last_hash} (written to the anchor file {settings.anchor_file})."
    )
    click.echo(key_travel(settings))


def key_travel(settings: TrailSettings) -> str:
    """How the audit key travels: never inside the backup, always said."""
    return (
        f"The audit key is NOT in the backup: it stays in {settings.key_file} (key id {settings.key.id}). "
        "Keep a copy of that file apart from the backups (another medium, readable by few); a restore "
        "needs it to check the trail's keyed hashes, and without it only the chain's links can be checked."
    )


def _refusal(file: Path, report: Report) -> str:
    named = "; ".join(str(p) for p in report.problems[:10])
    more = f" (and {len(report.problems) - 10} more)" if len(report.problems) > 10 else ""
    return (
        f"refusing to restore {file}: its audit trail is broken or does not match its data: {named}{more}. "
        "Nothing was changed."
    )


def _head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config(engine)).get_current_head()


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@click.option(
    "--skip-key-check",
    is_flag=True,
    help="Restore although the backup's events were keyed with an audit key this server does not hold "
    "(the key was lost): only the chain's links are checked. Recorded in the trail.",
)
@click.option(
    "--skip-anchor-check",
    is_flag=True,
    help="Restore although the anchor file has no line for this backup's trail (a backup from another "
    "installation): a cut tail cannot be detected. Recorded in the trail.",
)
def restore_command(file: Path, yes: bool, skip_key_check: bool, skip_anchor_check: bool) -> None:
    """Replace the SQLite database with the backup in FILE (checked first; asks for confirmation)."""
    engine = db.engine()
    live = sqlite_path(engine)
    if live is None:
        raise click.ClickException(PG_ADVICE)
    problems = integrity_problems(file)
    if problems:
        raise click.ClickException(
            f"refusing to restore {file}: {'; '.join(problems[:5])}. Nothing was changed."
        )
    settings = settings_of(engine)
    key = read_key(settings.key_file)
    backup_engine = read_only_engine(file)
    with Session(backup_engine) as session:
        report = verify_all(session, key, settings.anchor_file, backup=True)
    skipped = []
    if skip_anchor_check:
        report.problems = [p for p in report.problems if p.kind != "anchor"]
        skipped.append("anchor check skipped")
    if report.chain.unchecked:
        if not skip_key_check:
            raise click.ClickException(
                f"refusing to restore {file}: its events were keyed with audit key "
                f"{', '.join(report.chain.unchecked)}, but {settings.key_file} holds "
                f"{key.id if key else 'no key'}: their content cannot be checked. Put that key file back, or "
                "pass --skip-key-check to restore with only the chain's links checked. Nothing was changed."
            )
        skipped.append("key check skipped (key " + ", ".join(report.chain.unchecked) + " not available)")
    if not report.intact:
        raise click.ClickException(_refusal(file, report))
    incoming = contents(backup_engine)
    backup_engine.dispose()
    current = contents(engine) if live.exists() else Contents(0, 0)
    recorded = [a for a in anchors.read(settings.anchor_file, report.chain.chain) if a.kind == "backup"]
    taken = next((a for a in recorded if a.detail == sha256_of(file)), None)
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"The backup {file} holds {incoming.responses} answers and {incoming.audit_events} audit events "
        f"(verified: chain, anchors and replay; newest event id {report.chain.last_id}"
        + (f"; it is the backup written at {taken.at}" if taken else "")
        + (f"; {', '.join(skipped)}" if skipped else "")
        + f").\nThe database {live} now holds {current.responses} answers and "
        f"{current.audit_events} audit events; it will be replaced. Stop the app servers first."
    )
    click.echo(key_travel(settings))
    if not yes:
        click.confirm("Replace the database with the backup?", abort=True)
    engine.dispose()
    safety = None
    if live.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        safety = live.with_name(f"{live.stem}.before-restore-{stamp}{live.suffix}")
        take_backup(live, safety)
    copy_database(file, live)
    engine.dispose()
    problems = integrity_problems(live)
    if problems:
        raise click.ClickException(f"the restored database fails the integrity check: {problems[:5]}")
    settings.chain = None
    if report.chain.events:
        anchors.append(
            settings.anchor_file, "restore", report.chain.chain, report.chain.last_id, report.chain.last_hash
        )
    why = [f"replaced database kept as {safety}"] if safety else []
    with db.unit_of_work() as session:
        record(
            session,
            SYSTEM,
            "database.restore",
            "database",
            None,
            field="file",
            new=f"{file} sha256={sha256_of(file)}",
            reason="; ".join(why + skipped) or None,
        )
    click.echo(
        f"Restored {live} from {file}." + (f" The replaced database is kept as {safety}." if safety else "")
    )
    if migrate.current_revision(engine) != _head_revision(engine):
        click.echo("The backup has an older schema: run `flask --app epro init-db` to upgrade it.")
