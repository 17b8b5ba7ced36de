"""Proof that the audit trail is whole, and that the data matches it.

1. The chain: every row still hashes to its stored hash (HMAC with the audit key for keyed rows, SHA-256 for
   rows from before the key) and names the hash of the row before it; no unkeyed row follows a keyed one.
2. The anchors: every head the app wrote to the anchor file after a commit is still in the trail, so rows
   cut off its end are noticed.
3. The replay (epro.audit.replay): every answer, visit, questionnaire session and other registered row
   equals what its last audited event says, and has the event that created it.

What none of this proves is in docs/reliability.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from epro.audit import GENESIS, anchors, row_hash
from epro.audit.keys import AuditKey
from epro.audit.replay import replay
from epro.models import AuditEvent, AuditRedaction

BATCH = 1000


@dataclass(frozen=True, slots=True)
class BrokenLink:
    event_id: int
    #: "altered": the row's content no longer gives its hash; "unlinked": its prev_hash is not the hash
    #: of the row before it (a row was removed or inserted before it, or its prev_hash was edited);
    #: "downgraded": an unkeyed row after keyed ones (a forger without the key re-hashed it).
    problem: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    events: int
    last_id: int
    last_hash: str
    #: The hash of the first event: names this trail in the anchor file.
    chain: str
    broken: BrokenLink | None
    keyed: int = 0
    #: Keyed events whose key was not available: only their links were checked.
    unchecked: dict[str, int] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return self.broken is None


@dataclass(frozen=True, slots=True)
class Problem:
    #: "chain", "anchor", "replay" or "redaction".
    kind: str
    table: str
    row: str
    what: str

    def __str__(self) -> str:
        return f"{self.table} id {self.row}: {self.what}"


@dataclass
class Report:
    chain: ChainReport
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    # The page and older callers read these.
    @property
    def events(self) -> int:
        return self.chain.events

    @property
    def last_hash(self) -> str:
        return self.chain.last_hash


def _redactions(db: Session) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for row in db.exec(select(AuditRedaction)).all():
        found.setdefault(row.event_id, {})[row.field] = row.text_digest
    return found


def verify_chain(db: Session, key: AuditKey | None = None) -> ChainReport:
    """Walk the whole trail in id order, in batches (memory stays flat), and stop at the first break."""
    redacted = _redactions(db)
    previous, count, last_id, chain, keyed = GENESIS, 0, 0, "", 0
    unchecked: dict[str, int] = {}

    def report(broken: BrokenLink | None) -> ChainReport:
        return ChainReport(count, last_id, previous, chain, broken, keyed, unchecked)

    while True:
        batch = db.exec(
            select(AuditEvent).where(col(AuditEvent.id) > last_id).order_by(col(AuditEvent.id)).limit(BATCH)
        ).all()
        if not batch:
            return report(None)
        for event in batch:
            assert event.id is not None
            if event.prev_hash != previous:
                return report(BrokenLink(event.id, "unlinked"))
            if event.key_id is None:
                if keyed:
                    return report(BrokenLink(event.id, "downgraded"))
                if row_hash(event) != event.hash:
                    return report(BrokenLink(event.id, "altered"))
            else:
                keyed += 1
                if key is not None and key.id == event.key_id:
                    if row_hash(event, key, redacted.get(event.id)) != event.hash:
                        return report(BrokenLink(event.id, "altered"))
                else:
                    unchecked[event.key_id] = unchecked.get(event.key_id, 0) + 1
            chain = chain or event.hash
            previous, count, last_id = event.hash, count + 1, event.id
        db.expunge_all()


def _hashes_at(db: Session, ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH):
        chunk = ordered[start : start + BATCH]
        rows = db.exec(select(AuditEvent.id, AuditEvent.hash).where(col(AuditEvent.id).in_(chunk))).all()
        found.update((event_id, hash_) for event_id, hash_ in rows if event_id is not None)
    return found


def check_anchors(
    db: Session, chain: ChainReport, anchor_file: Path, *, backup: bool = False
) -> tuple[list[Problem], list[str]]:
    """Compare the trail with the anchor file. A live database must hold every head anchored since its
    last restore; a backup's own head must be one the app anchored (a backup is a committed moment)."""
    problems: list[Problem] = []
    notes: list[str] = []
    if chain.events == 0:
        return problems, notes
    mine = anchors.read(anchor_file, chain.chain)
    if not mine:
        if chain.keyed:
            problems.append(
                Problem(
                    "anchor",
                    "audit_event",
                    str(chain.last_id),
                    f"the anchor file {anchor_file} has no line for this trail (first hash {chain.chain[:16]}…): "
                    "its head cannot be confirmed. Either the trail was rewritten from its first event, or "
                    "this is not the anchor file of this database.",
                )
            )
        else:
            notes.append(
                f"No anchors for this trail in {anchor_file} (it predates anchoring): a cut tail cannot be detected."
            )
        return problems, notes
    if backup:
        if not any(a.last_id == chain.last_id and a.head == chain.last_hash for a in mine):
            problems.append(
                Problem(
                    "anchor",
                    "audit_event",
                    str(chain.last_id),
                    "this trail ends at an event the app never anchored as a head of a committed moment: "
                    "its newest rows were cut off, or it was re-chained.",
                )
            )
        return problems, notes
    current = anchors.current_epoch(mine)
    stored = _hashes_at(db, {a.last_id for a in current})
    for anchor in current:
        found = stored.get(anchor.last_id)
        if found == anchor.head:
            continue
        what = f"{anchor.describe()} names it as the head with hash {anchor.head[:16]}…, but the trail " + (
            "has no such event: its newest rows were cut off."
            if found is None
            else f"holds {found[:16]}… there: it was re-chained."
        )
        problems.append(Problem("anchor", "audit_event", str(anchor.last_id), what))
    newest = max(a.last_id for a in current)
    if chain.last_id > newest:
        after = chain.last_id - newest
        notes.append(
            f"{after} newest event id(s) after the newest anchor (id {newest}): written a moment ago, or by a "
            "process that could not write the anchor file."
        )
    return problems, notes


def verify_all(db: Session, key: AuditKey | None, anchor_file: Path, *, backup: bool = False) -> Report:
    """The chain, the anchors and the replay of the trail against the tables."""
    chain = verify_chain(db, key)
    report = Report(chain)
    if chain.broken is not None:
        report.problems.append(
            Problem("chain", "audit_event", str(chain.broken.event_id), chain.broken.problem)
        )
    for key_id, count in chain.unchecked.items():
        report.notes.append(
            f"{count} events were keyed with key {key_id}, which is not available "
            f"({'no key file' if key is None else 'the key file holds key ' + key.id}): their links were "
            "checked, their content could NOT be checked against the key."
        )
    problems, notes = check_anchors(db, chain, anchor_file, backup=backup)
    report.problems.extend(problems)
    report.notes.extend(notes)
    report.problems.extend(Problem("replay", m.table, m.row, m.what) for m in replay(db))
    return report
