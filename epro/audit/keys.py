"""The audit key: a secret outside the database that keys every event's hash (HMAC-SHA256), so whoever can
write the database but not read this file cannot re-chain the trail after changing a row.

It lives in instance/audit_key (or the AUDIT_KEY_FILE setting), created on first start readable by its
owner only, never stored in the database. Each event names the key that hashed it by a key id (a hash of
the key, not the key), so a trail from before the key existed (key id NULL: plain SHA-256) still verifies,
and a trail whose key was lost still has its links checked (verify says it could not check the keys).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from epro.private_files import create_secret_once


@dataclass(frozen=True, slots=True)
class AuditKey:
    secret: bytes

    @property
    def id(self) -> str:
        return key_id(self.secret)


def key_id(secret: bytes) -> str:
    return hashlib.sha256(b"epro audit key id\x00" + secret).hexdigest()[:16]


def read_key(path: Path) -> AuditKey | None:
    """The key in path, or None when the file is missing (verify then checks links only)."""
    try:
        raw = path.read_text().strip()
    except FileNotFoundError:
        return None
    return AuditKey(bytes.fromhex(raw))


def ensure_key(path: Path) -> AuditKey:
    """Read the key, creating it (mode 600) on first use; workers starting at once share one key."""
    create_secret_once(path)
    key = read_key(path)
    assert key is not None
    return key
