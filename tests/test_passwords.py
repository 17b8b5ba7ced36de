"""Passwords are hashed with Argon2id at the production cost, whatever the suite's own setting.

The rest of the suite runs with PASSWORD_HASHING = "test-only-cheap" (tests/conftest.py): this is the one
place that checks what a clinic's server does with the setting left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import extract_parameters

from epro import create_app
from epro.passwords import hash_password, verify_password


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashing: str | None):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("EPRO_PASSWORD_HASHING", raising=False)
    config = {"TESTING": True, "SECRET_KEY": "p", "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"}
    if hashing is not None:
        config["PASSWORD_HASHING"] = hashing
    return create_app(config)


def test_an_installation_left_at_its_defaults_hashes_with_rfc_9106_low_memory_argon2id(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch, None)
    with app.app_context():
        stored = hash_password("correct horse battery")
        assert verify_password(stored, "correct horse battery")
        assert not verify_password(stored, "wrong horse battery")
        assert not verify_password(None, "correct horse battery")
    assert stored.startswith("$argon2id$")
    parameters = extract_parameters(stored)
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (3, 65536, 4)
    # Outside any app (a script importing epro.passwords) the production cost holds too.
    assert extract_parameters(hash_password("x")).memory_cost == 65536


def test_the_suites_cheap_setting_changes_only_the_cost_and_its_hashes_verify_anywhere(tmp_path, monkeypatch):
    cheap = _app(tmp_path, monkeypatch, "test-only-cheap")
    with cheap.app_context():
        stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert extract_parameters(stored).memory_cost < 65536
    # A hash carries its parameters: an app at production cost accepts it, and only the right password.
    with _app(tmp_path, monkeypatch, None).app_context():
        assert verify_password(stored, "correct horse battery")
        assert not verify_password(stored, "correct horse")
