"""The audit trail: append-only rows, each carrying a hash of the row before it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select, text

from epro.models import AuditEvent, utcnow

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Actor:
    type: str  # "staff", "patient" or "system"
    id: int | None = None
    name: str | None = None


SYSTEM = Actor("system", None, "cli")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def row_hash(event: AuditEvent) -> str:
    payload = json.dumps(
        [
            event.prev_hash,
            event.at.isoformat(),
            event.actor_type,
            event.actor_id,
            event.actor_name,
            event.action,
            event.entity,
            event.entity_id,
            event.field,
            event.old_value,
            event.new_value,
            event.reason,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    db: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = None,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (the caller commits)."""
    if db.get_bind().dialect.name == "postgresql":
        # Serialise appenders so the chain never forks; released at commit or rollback.
        db.execute(text("SELECT pg_advisory_xact_lock(4242)"))
    prev = db.exec(select(AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    event = AuditEvent(
        at=utcnow(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        entity=entity,
        entity_id=_text(entity_id),
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        reason=reason,
        prev_hash=prev or GENESIS,
        hash="",
    )
    event.hash = row_hash(event)
    db.add(event)
    db.flush()
    return event
