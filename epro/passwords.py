"""Password hashing with Argon2id.

New hashes use argon2-cffi's defaults (RFC 9106's low-memory profile: t=3, m=64 MiB, p=4). A hash carries
its own parameters, so verifying always costs what hashing that password once cost.

The PASSWORD_HASHING setting "test-only-cheap" swaps in the cheapest parameters Argon2 accepts, for the
test suite alone (it makes thousands of accounts and sign-ins); tests/test_passwords.py asserts that an
app left at its defaults hashes with the production parameters.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

PRODUCTION = PasswordHasher()
TEST_ONLY_CHEAP = "test-only-cheap"
_cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _hasher() -> PasswordHasher:
    """Production parameters unless this app's PASSWORD_HASHING is "test-only-cheap"."""
    if has_app_context() and current_app.config.get("PASSWORD_HASHING") == TEST_ONLY_CHEAP:
        return _cheap
    return PRODUCTION


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A real Argon2 hash of a random password with the same parameters, made on first need (not at
    import: every worker and CLI command would pay for it) and verified whenever there is no real hash."""
    return hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (unknown or deactivated account) a dummy hash is verified
    all the same, so the answer takes as long either way."""
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
