"""The head of the audit chain: the newest event's id and hash.

A small stand-in over the audit_event table; the audit package is getting a keyed chain and anchors, and
its own chain_head function will replace this one (callers use only ChainHead.event_id / .hash).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from epro.models import AuditEvent


@dataclass(frozen=True, slots=True)
class ChainHead:
    event_id: int
    hash: str


def chain_head(db: Session) -> ChainHead | None:
    row = db.exec(select(AuditEvent.id, AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    if row is None or row[0] is None:
        return None
    return ChainHead(row[0], row[1])


def in_trail(db: Session, head: ChainHead) -> bool:
    """The event is still in the trail with the same hash (a cut or rewritten trail fails this)."""
    stored = db.exec(select(AuditEvent.hash).where(AuditEvent.id == head.event_id)).first()
    return stored == head.hash
