"""Removing personal data typed into the trail by mistake (ICH E6(R3)), without breaking its proof.

The free-text field of the event is set to NULL and an audit_redaction row keeps the keyed digest (HMAC-SHA256)
of the text that was there, plus why. Keyed events hash their free text as that digest (epro.audit.row_hash),
so the event still verifies with the kept digest; the text itself is gone from the database. The database's
append-only guard allows exactly this UPDATE (a redactable field to NULL, with its redaction row present)
and nothing else. The redaction is itself an audit event ("audit.redact", the event's id, the field, the
digest, the reason), so the replay in `audit verify` also proves that each redaction row was made by it.

Events from before the audit key (plain SHA-256 over the text itself) cannot be redacted this way: their
hash needs the text, so removing it would make them unverifiable. They are refused.
"""

from __future__ import annotations

from sqlmodel import Session, col, select, update

from epro.audit import Actor, record, settings_for, text_digest
from epro.models import REDACTABLE_FIELDS, AuditEvent, AuditRedaction


class RedactionRefused(Exception):
    """The redaction cannot be made; `reason` says why, in words for the operator."""


def redact(db: Session, actor: Actor, event_id: int, field: str, reason: str) -> AuditRedaction:
    """Redact one free-text field of one event; the caller commits."""
    reason = reason.strip()
    if not reason:
        raise RedactionRefused("a reason is required")
    if field not in REDACTABLE_FIELDS:
        raise RedactionRefused(f"only these fields can be redacted: {', '.join(REDACTABLE_FIELDS)}")
    event = db.get(AuditEvent, event_id)
    if event is None:
        raise RedactionRefused(f"there is no audit event with id {event_id}")
    if event.key_id is None:
        raise RedactionRefused(
            f"audit event {event_id} predates the audit key: its hash covers the text itself, so it cannot "
            "be redacted without making it unverifiable"
        )
    key = settings_for(db).key
    if event.key_id != key.id:
        raise RedactionRefused(
            f"audit event {event_id} was keyed with key {event.key_id}, but this server holds key {key.id}"
        )
    if event.action == "audit.redact":
        raise RedactionRefused("a redaction event cannot itself be redacted")
    done = db.exec(
        select(AuditRedaction).where(AuditRedaction.event_id == event_id, AuditRedaction.field == field)
    ).first()
    if done is not None:
        raise RedactionRefused(f"the {field} of audit event {event_id} was already redacted")
    text = getattr(event, field)
    if text is None:
        raise RedactionRefused(f"the {field} of audit event {event_id} is empty")
    digest = text_digest(key, text)
    assert digest is not None
    redaction = AuditRedaction(event_id=event_id, field=field, text_digest=digest, reason=reason)
    db.add(redaction)
    db.flush()
    db.execute(update(AuditEvent).where(col(AuditEvent.id) == event_id).values({field: None}))
    db.expire(event)
    record(db, actor, "audit.redact", "audit_event", event_id, field=field, new=digest, reason=reason)
    return redaction


def redacted_fields(db: Session, event_ids: list[int]) -> dict[tuple[int, str], str]:
    """(event id, field) -> the redaction's reason, for showing redacted fields as such."""
    if not event_ids:
        return {}
    rows = db.exec(select(AuditRedaction).where(col(AuditRedaction.event_id).in_(event_ids))).all()
    return {(r.event_id, r.field): r.reason for r in rows}
