"""The audit trail in the UI and on the command line (registered by init_app)."""

from __future__ import annotations

import click
from flask import Blueprint, Flask, render_template, request
from flask.cli import AppGroup
from flask_babel import lazy_pgettext
from sqlmodel import Session

from epro import db
from epro.access import allow
from epro.audit import trail
from epro.audit.verify import verify_chain
from epro.clock import clinic_zone
from epro.models import AuditEvent
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
    ), (400 if parsed.errors else 200)


@bp.route("/verify")
@allow(*READERS)
def verify():  # type: ignore[no-untyped-def]
    """Recompute the whole chain now and say whether it is intact."""
    return render_template("audit/verify.html", report=verify_chain(db.session()))


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the hash chain; exit 1 and name the first broken row if it is not intact."""
    with Session(db.engine()) as session:  # a read: the app keeps writing while the chain is checked
        report = verify_chain(session)
    if report.broken is None:
        click.echo(f"intact: {report.events} events (newest hash {report.last_hash})")
        return
    what = {
        "altered": "its content no longer matches its hash (the row was changed)",
        "unlinked": "its prev_hash is not the hash of the row before it (a row was removed, inserted or changed)",
    }[report.broken.problem]
    click.echo(
        f"BROKEN at audit event id {report.broken.event_id}: {what}. "
        f"{report.events} events before it are intact.",
        err=True,
    )
    raise SystemExit(1)


def init_app(app: Flask) -> None:
    """Register the audit blueprint and CLI commands."""
    from epro import backup  # the backup commands live beside the trail they record into

    app.register_blueprint(bp)
    add_nav_link(app, "audit.trail_list", lazy_pgettext("menu", "Audit trail"), READERS)
    app.cli.add_command(audit_cli)
    backup.init_app(app)
