"""Files that hold study data or secrets are readable by their owner only (0600) from the moment they
exist: the SQLite database (SQLite gives its -wal and -shm files the database file's mode), backups, the
secret key and the demo passwords. Whoever else can log in to the machine reads none of them."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE = 0o600


def create_private(path: Path) -> None:
    """Create `path` empty and private unless it exists; an existing file of ours is made private too."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        make_private(path)


def make_private(path: Path) -> None:
    """chmod 600 the file and its SQLite companions, where they exist and are ours to change."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(PRIVATE)


def write_private_text(path: Path, text: str) -> None:
    create_private(path)
    path.write_text(text)


def create_secret_once(path: Path) -> None:
    """Write a fresh random secret (64 hex digits, mode 600) to `path` unless it exists. Several workers
    starting at once end up with the one secret that won the race: each writes a private temporary file
    and links it into place, and a link never replaces an existing file."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
