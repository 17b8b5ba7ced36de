"""Proof that the audit trail is whole: every row still hashes to its stored hash, and every row names the
hash of the row before it. A row edited or deleted behind the application's back breaks one of the two.

The chain cannot notice rows cut off its end; `flask --app epro audit verify` prints the count and the
newest hash so a monitor can compare them with an earlier run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from epro.audit import GENESIS, row_hash
from epro.models import AuditEvent

BATCH = 1000


@dataclass(frozen=True, slots=True)
class BrokenLink:
    event_id: int
    #: "altered": the row's content no longer gives its hash; "unlinked": its prev_hash is not the hash
    #: of the row before it (a row was removed or inserted before it, or its prev_hash was edited).
    problem: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    last_hash: str
    broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(db: Session) -> ChainReport:
    """Walk the whole trail in id order, in batches (memory stays flat), and stop at the first break."""
    previous, count, last_id = GENESIS, 0, 0
    while True:
        batch = db.exec(
            select(AuditEvent).where(col(AuditEvent.id) > last_id).order_by(col(AuditEvent.id)).limit(BATCH)
        ).all()
        if not batch:
            return ChainReport(count, previous, None)
        for event in batch:
            assert event.id is not None
            if event.prev_hash != previous:
                return ChainReport(count, previous, BrokenLink(event.id, "unlinked"))
            if row_hash(event) != event.hash:
                return ChainReport(count, previous, BrokenLink(event.id, "altered"))
            previous, count, last_id = event.hash, count + 1, event.id
        db.expunge_all()
