"""The `flask audit` commands: verify the trail, redact a free text typed into it by mistake."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlmodel import Session, select

from epro import audit, db
from epro.audit import Actor
from epro.audit.keys import AuditKey, read_key
from epro.audit.redaction import RedactionRefused, redact
from epro.audit.verify import Report, verify_all
from epro.models import REDACTABLE_FIELDS, StaffUser

audit_cli = AppGroup("audit", help="The audit trail.")

CHAIN_WORDS = {
    "altered": "its content no longer matches its hash (the row was changed, or re-hashed without the key)",
    "unlinked": "its prev_hash is not the hash of the row before it (a row was removed, inserted or changed)",
    "downgraded": "it carries a plain, unkeyed hash after keyed rows (re-hashed by someone without the key)",
}


def echo_report(report: Report, settings_line: str) -> None:
    """The verify report as the operator reads it: what was checked, what is wrong (named), what was not."""
    chain = report.chain
    click.echo(settings_line)
    for note in report.notes:
        click.echo(f"note: {note}")
    if report.intact:
        checked = (
            "keyed hashes checked"
            if not chain.unchecked
            else f"keyed hashes of {sum(chain.unchecked.values())} events NOT checked (key not available)"
        )
        click.echo(
            f"intact: {chain.events} events (newest id {chain.last_id}, newest hash {chain.last_hash}); "
            f"{checked}; anchors match; every replayed row equals its last audited event"
        )
        return
    for problem in report.problems:
        if problem.kind == "chain":
            click.echo(
                f"BROKEN at audit event id {problem.row}: {CHAIN_WORDS[problem.what]}. "
                f"{chain.events} events before it are intact.",
                err=True,
            )
        else:
            click.echo(f"BROKEN ({problem.kind}) {problem}", err=True)


def key_line(key: AuditKey | None, path: Path) -> str:
    if key is None:
        return f"audit key: NOT FOUND at {path}: keyed hashes cannot be checked, only the chain's links"
    return f"audit key: {key.id} from {path}"


@audit_cli.command("verify")
def verify_command() -> None:
    """Check the chain (keyed hashes), the anchors and the replay; exit 1 naming each broken row."""
    settings = audit.settings_of(db.engine())
    key = read_key(settings.key_file)
    with Session(db.engine()) as session:  # a read: the app keeps writing while the chain is checked
        report = verify_all(session, key, settings.anchor_file)
    echo_report(report, key_line(key, settings.key_file) + f"; anchors: {settings.anchor_file}")
    if not report.intact:
        raise SystemExit(1)


@audit_cli.command("redact")
@click.argument("event_id", type=int)
@click.argument("field", type=click.Choice(REDACTABLE_FIELDS))
@click.option("--reason", required=True, help="Why the text is removed (kept in the trail).")
@click.option("--admin", "admin_name", required=True, help="User name of the admin who asked for it.")
def redact_command(event_id: int, field: str, reason: str, admin_name: str) -> None:
    """Remove the free text FIELD of audit event EVENT_ID (personal data entered by mistake)."""
    with db.unit_of_work() as session:
        admin = session.exec(select(StaffUser).where(StaffUser.username == admin_name)).first()
        if admin is None or admin.role != "admin" or not admin.is_active:
            raise click.ClickException(f"{admin_name!r} is not an active admin account; nothing was changed")
        try:
            redaction = redact(session, Actor("staff", admin.id, admin.username), event_id, field, reason)
        except RedactionRefused as exc:
            raise click.ClickException(f"{exc}; nothing was changed") from None
        digest = redaction.text_digest
    click.echo(
        f"Redacted the {field} of audit event {event_id} (its keyed digest {digest[:16]}… is kept, so the "
        "event still verifies); the redaction is recorded in the trail."
    )
