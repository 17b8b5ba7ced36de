"""The anchor file: the chain's head written outside the database after every commit that appended events,
so a trail whose newest rows were cut off (or re-chained without the key) no longer matches it.

One line per anchor, appended (O_APPEND, one write) and never rewritten:

    <UTC time> <kind> <chain id> <last event id> <head hash> [<detail>]

kind is "commit" (written by the app), "backup" (the head of a backup file; detail: its SHA-256) or
"restore" (the database was replaced by a backup with this head: earlier commit lines of the chain describe
the replaced history and are no longer compared). The chain id is the hash of the trail's first event, so
one anchor file can serve several databases (tests, copies) without mixing them up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

KINDS = ("commit", "backup", "restore")


@dataclass(frozen=True, slots=True)
class Anchor:
    at: str
    kind: str
    chain: str
    last_id: int
    head: str
    detail: str = ""
    line: int = 0

    def describe(self) -> str:
        return f"anchor line {self.line} ({self.kind} at {self.at})"


def append(path: Path, kind: str, chain: str, last_id: int, head: str, detail: str = "") -> None:
    """Append one anchor line in a single write (appends of a short line do not interleave)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = f"{stamp} {kind} {chain} {last_id} {head}" + (f" {detail}" if detail else "") + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read(path: Path, chain: str | None = None) -> list[Anchor]:
    """Every well-formed line (of one chain, if given), in file order; unreadable lines are skipped."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    found = []
    for number, line in enumerate(lines, start=1):
        parts = line.split(" ")
        if len(parts) < 5 or parts[1] not in KINDS or not parts[3].isdigit():
            continue
        anchor = Anchor(parts[0], parts[1], parts[2], int(parts[3]), parts[4], " ".join(parts[5:]), number)
        if chain is None or anchor.chain == chain:
            found.append(anchor)
    return found


def current_epoch(anchors: list[Anchor]) -> list[Anchor]:
    """The anchors that describe the database as it is now: from the last restore line on."""
    restores = [i for i, anchor in enumerate(anchors) if anchor.kind == "restore"]
    return anchors[restores[-1] :] if restores else anchors
