"""The audit trail in the UI and on the command line (registered by init_app)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint, Flask, current_app, render_template, request
from flask.cli import AppGroup
from flask_babel import lazy_pgettext
from sqlmodel import Session, select

from epro import audit, db
from epro.access import allow
from epro.audit import Actor, TrailSettings, trail
from epro.audit.keys import AuditKey, ensure_key, read_key
from epro.audit.redaction import RedactionRefused, redact, redacted_fields
from epro.audit.verify import Report, verify_all
from epro.clock import clinic_zone
from epro.models import REDACTABLE_FIELDS, AuditEvent, StaffUser
from epro.templating import add_nav_link, visit_label

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")
READERS = ("investigator", "admin")


@bp.route("/")
@allow(*READERS)
def trail_list():  # type: ignore[no-untyped-def]
    """The trail, newest first, filtered by action, kind of record, actor and clinic dates."""
    parsed = trail.parse_filters(request.args)
    database = db.session()
    page = None if parsed.errors else trail.trail_page(database, parsed.filters, clinic_zone())
    events = page.events if page else []
    return render_template(
        "audit/list.html",
        filters=parsed.filters if not parsed.errors else None,
        args=request.args,
        errors=parsed.errors,
        page=page,
        records=trail.describe_records(database, events, visit_label),
        actions=trail.known_codes(database, AuditEvent.action),
        entities=trail.known_codes(database, AuditEvent.entity),
        action_label=trail.action_label,
        entity_label=trail.entity_label,
        actor_label=trail.actor_label,
        redacted=redacted_fields(database, [e.id for e in events]),  # type: ignore[misc]
    ), (400 if parsed.errors else 200)


def trail_settings(app: Flask | None = None) -> TrailSettings:
    """The key and anchor file of the app's own database."""
    return audit.settings_for(Session((app or current_app).extensions["epro_engine"]))


@bp.route("/verify")
@allow(*READERS)
def verify():  # type: ignore[no-untyped-def]
    """Recompute the chain, compare it with the anchors and replay it against the tables now."""
    settings = trail_settings()
    with Session(db.engine()) as session:
        report = verify_all(session, settings.key, settings.anchor_file)
    return render_template("audit/verify.html", report=report)


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
    settings = trail_settings()
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


def init_app(app: Flask) -> None:
    """Register the audit blueprint and CLI commands, and set up the key and anchors of the app's database."""
    from epro import backup  # the backup commands live beside the trail they record into

    instance = Path(app.instance_path)
    key_file = Path(app.config.setdefault("AUDIT_KEY_FILE", str(instance / "audit_key")))
    anchor_file = Path(app.config.setdefault("AUDIT_ANCHOR_FILE", str(instance / "audit-anchors")))
    audit.configure(app.extensions["epro_engine"], TrailSettings(ensure_key(key_file), anchor_file, key_file))
    app.register_blueprint(bp)
    add_nav_link(app, "audit.trail_list", lazy_pgettext("menu", "Audit trail"))
    app.cli.add_command(audit_cli)
    backup.init_app(app)
