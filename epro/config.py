"""Configuration: defaults, then instance/config.py, then EPRO_* environment variables (a value that parses
as JSON, such as a number or true/false, is read as that; anything else as text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from epro.codes import LANGUAGES
from epro.private_files import create_secret_once

DEFAULTS: dict[str, Any] = {
    "STUDY_NAME": "epro demo study",
    # STUDYID in SDTM exports.
    "SDTM_STUDYID": "EPRO",
    # The SDTM package's study facts the database does not hold (see epro/exports/README.md).
    "SDTM_SITEID": "01",
    "SDTM_COUNTRY": "KOR",
    "SDTM_ARMCD": "TRT",
    "SDTM_ARM": "Study treatment",
    "SDTM_TITLE": "",
    "SDTM_SPONSOR": "",
    "CLINIC_TIMEZONE": "Asia/Seoul",
    "DEFAULT_LOCALE": "ko",
    "LANGUAGES": list(LANGUAGES),
    "PROTOCOL": "default",
    # Seconds of inactivity after which a tablet in patient mode locks itself.
    "KIOSK_IDLE_SECONDS": 180,
    # Minutes of inactivity after which a staff sign-in expires.
    "STAFF_IDLE_MINUTES": 30,
    # Hours after sign-in at which a staff session ends, however active.
    "STAFF_MAX_SESSION_HOURS": 12,
    # The brake on failed staff sign-ins (epro.staff.throttle): failures count for this many minutes;
    # an account waits a doubling delay after DELAY_AFTER failures and is locked for the window at
    # LOCK_AFTER; an address only waits, after ADDRESS_DELAY_AFTER failures; no delay exceeds MAX.
    "SIGNIN_WINDOW_MINUTES": 15,
    "SIGNIN_ACCOUNT_DELAY_AFTER": 3,
    "SIGNIN_ACCOUNT_LOCK_AFTER": 10,
    "SIGNIN_ADDRESS_DELAY_AFTER": 20,
    "SIGNIN_MAX_DELAY_SECONDS": 60,
    "STUDY_ID_PATTERN": r"^[A-Z]{2,5}-[0-9]{3,4}$",
    # Day 0 may lie this many days back / ahead of today; further than DAY0_CONFIRM_DAYS needs a confirmation.
    "DAY0_MAX_PAST_DAYS": 365,
    "DAY0_MAX_FUTURE_DAYS": 90,
    "DAY0_CONFIRM_DAYS": 30,
    # A visit may be rescheduled at most this many days after its window closes (a hard bound).
    "RESCHEDULE_MAX_DAYS_AFTER_WINDOW": 60,
    "STUDY_ID_EXAMPLE": "EPR-001",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "epro_session",
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Database connections per process: kept, opened beyond that, and seconds a request waits for one
    # before a 503 "busy" page. A request holds at most one at a time, so size them to the threads of a
    # process (gunicorn gthread: DB_POOL_SIZE = threads); see docs/deploy.md.
    "DB_POOL_SIZE": 4,
    "DB_POOL_OVERFLOW": 4,
    "DB_POOL_TIMEOUT": 5,
    "WTF_CSRF_TIME_LIMIT": None,
    # Argon2id parameters of new password hashes (epro.passwords): "production"; the test suite alone sets
    # "test-only-cheap".
    "PASSWORD_HASHING": "production",
    # Wrong passwords in a row at which signing locks, and for how long (epro.signatures).
    "SIGNATURE_MAX_FAILURES": 3,
    "SIGNATURE_LOCK_MINUTES": 15,
    "DEBUG": False,
}


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    instance = Path(app.instance_path)
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(
        DATABASE_URL="sqlite:///" + str(instance / "epro.sqlite3"),
        AUDIT_KEY_FILE=str(instance / "audit_key"),
        AUDIT_ANCHOR_FILE=str(instance / "audit-anchors"),
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("EPRO")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance)
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["CLINIC_TIMEZONE"]
    app.config["PERMANENT_SESSION_LIFETIME"] = 60 * int(app.config["STAFF_IDLE_MINUTES"])


def instance_secret_key(instance: Path) -> str:
    """Read the secret key from instance/, creating it (readable by the owner only) on first run."""
    path = instance / "secret_key"
    create_secret_once(path)
    return path.read_text().strip()
