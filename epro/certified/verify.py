"""Checking a certified copy: every file against the manifest's SHA-256 and, with database access, that
the audit-chain head it names is still in the trail and that the manifest itself was recorded there.

What this proves: the files are the ones the manifest lists, byte for byte; with the database, the
manifest is the one epro wrote (its hash is in the trail) and the trail still holds the head it saw.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from epro.audit import ChainHead, in_trail
from epro.certified.bundle import BUNDLE_ACTION, MANIFEST
from epro.models import AuditEvent


@dataclass
class BundleCheck:
    #: One line per problem, each naming the file (or the trail) concerned.
    problems: list[str] = field(default_factory=list)
    #: What was checked and found right.
    passed: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    manifest_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return None


def check_files(path: Path) -> BundleCheck:
    check = BundleCheck()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        check.problems.append(f"{path.name}: not a readable ZIP archive ({error})")
        return check
    with archive:
        names = set(archive.namelist())
        raw = _read(archive, MANIFEST) if MANIFEST in names else None
        if raw is None:
            check.problems.append(f"{MANIFEST}: missing or damaged")
            return check
        try:
            manifest = json.loads(raw)
            listed = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
        except (ValueError, KeyError, TypeError):
            check.problems.append(f"{MANIFEST}: not a certified-copy manifest")
            return check
        check.manifest, check.manifest_sha256 = manifest, hashlib.sha256(raw).hexdigest()
        for name, expected in listed.items():
            if name not in names:
                check.problems.append(f"{name}: missing from the archive")
                continue
            data = _read(archive, name)
            if data is None:
                check.problems.append(f"{name}: damaged (the archive's checksum of this file fails)")
            elif hashlib.sha256(data).hexdigest() != expected:
                check.problems.append(f"{name}: SHA-256 differs from the manifest (the file was changed)")
            else:
                check.passed.append(f"{name}: SHA-256 {expected}")
        for name in sorted(names - set(listed) - {MANIFEST}):
            check.problems.append(f"{name}: not listed in the manifest")
    return check


def check_trail(db: Session, check: BundleCheck) -> None:
    """With database access: the head is in the trail, and the manifest's hash was recorded."""
    assert check.manifest is not None
    head = check.manifest.get("audit_chain_head")
    if head:
        if in_trail(db, ChainHead(int(head["event_id"]), str(head["hash"]))):
            check.passed.append(f"audit trail: holds the chain head #{head['event_id']}")
        else:
            check.problems.append(
                f"audit trail: the chain head #{head['event_id']} named by {MANIFEST} is not in the trail"
            )
    recorded = db.exec(
        select(AuditEvent.id).where(
            AuditEvent.action == BUNDLE_ACTION, AuditEvent.new_value == check.manifest_sha256
        )
    ).first()
    if recorded is None:
        check.problems.append(f"{MANIFEST}: its SHA-256 was never recorded in the audit trail")
    else:
        check.passed.append(f"audit trail: {MANIFEST} recorded as event #{recorded}")
