"""Which database the suite runs on: a fresh SQLite file per test (default)."""

from __future__ import annotations

from pathlib import Path


def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'epro.sqlite3'}"
