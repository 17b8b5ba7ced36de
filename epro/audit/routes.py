"""The audit trail's pages: the filtered list and the integrity check (for investigators and admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from sqlmodel import Session, col

from epro import audit, db
from epro.access import allow
from epro.audit import trail
from epro.audit.forms import TrailFilterForm
from epro.audit.redaction import redacted_fields
from epro.audit.verify import verify_all
from epro.clock import clinic_zone
from epro.models import AuditEvent
from epro.templating import visit_label

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")
READERS = ("investigator", "admin")


@bp.route("/")
@allow(*READERS)
def trail_list() -> ResponseReturnValue:
    """The trail, newest first, filtered by action, kind of record, actor and clinic dates."""
    form = TrailFilterForm(request.args)
    filters = form.filters() if form.validate() else None
    database = db.session()
    page = None if filters is None else trail.trail_page(database, filters, clinic_zone())
    events = page.events if page else []
    errors = form.messages()
    return render_template(
        "audit/list.html",
        filters=filters,
        args=request.args,
        errors=errors,
        page=page,
        records=trail.describe_records(database, events, visit_label),
        actions=trail.known_codes(database, col(AuditEvent.action)),
        entities=trail.known_codes(database, col(AuditEvent.entity)),
        action_label=trail.action_label,
        entity_label=trail.entity_label,
        actor_label=trail.actor_label,
        redacted=redacted_fields(database, [e.id for e in events if e.id is not None]),
    ), (400 if filters is None else 200)


@bp.route("/verify")
@allow(*READERS)
def verify() -> ResponseReturnValue:
    """Recompute the chain, compare it with the anchors and replay it against the tables now."""
    settings = audit.settings_of(db.engine())
    with Session(db.engine()) as session:
        report = verify_all(session, settings.key, settings.anchor_file)
    return render_template("audit/verify.html", report=report)
