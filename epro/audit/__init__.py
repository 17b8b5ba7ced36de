"""The audit trail: append-only rows, each carrying a hash of the row before it.

Events written with an audit key (epro.audit.keys) are hashed with HMAC-SHA256 over their fields, the free
text among them (actor name, old and new value, reason) entering as its own SHA-256 so a redacted text can
still be checked (epro.audit.redaction). Events from before the key (key_id NULL) keep their plain SHA-256.
After each commit that appended events, the new head is anchored outside the database (epro.audit.anchors).
The trail's pages are in `routes`, its `flask audit` commands in `cli`; `init_app` wires them and the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_pgettext
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select, text

from epro.audit import anchors
from epro.audit.keys import AuditKey, ensure_key
from epro.models import AuditEvent, utcnow

GENESIS = "0" * 64
TEXT_FIELDS = ("actor_name", "old_value", "new_value", "reason")


class AuditNotConfigured(Exception):
    """An event was about to be written through a database the app did not set the audit key up for."""


class AuditKeyMissing(Exception):
    """A keyed event's hash was asked for without its key."""


@dataclass(frozen=True, slots=True)
class Actor:
    type: str  # "staff", "patient" or "system"
    id: int | None = None
    name: str | None = None


SYSTEM = Actor("system", None, "cli")


@dataclass(slots=True)
class TrailSettings:
    """Where one database's trail keeps its key and anchors (set up by init_app)."""

    key: AuditKey
    anchor_file: Path
    key_file: Path
    #: The chain id (hash of the first event), once known; forgotten when the database is replaced.
    chain: str | None = None


_settings: dict[Engine, TrailSettings] = {}


def configure(engine: Engine, settings: TrailSettings) -> None:
    _settings[engine] = settings


def _engine_of(db: Session) -> Engine:
    bind = db.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def configured(db: Session) -> TrailSettings | None:
    return _settings.get(_engine_of(db))


def settings_of(engine: Engine) -> TrailSettings:
    """The key and anchor file of the database behind `engine` (the app's: `settings_of(db.engine())`)."""
    found = _settings.get(engine)
    if found is None:
        raise AuditNotConfigured(str(engine.url))
    return found


def settings_for(db: Session) -> TrailSettings:
    return settings_of(_engine_of(db))


@dataclass(frozen=True, slots=True)
class ChainHead:
    event_id: int
    hash: str


def chain_head(db: Session) -> ChainHead | None:
    """The newest event's id and hash: what a PDF or bundle prints so its moment can be found in the trail."""
    row = db.exec(select(AuditEvent.id, AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    return None if row is None or row[0] is None else ChainHead(row[0], row[1])


def in_trail(db: Session, head: ChainHead) -> bool:
    """The event is still in the trail with the same hash (a cut or re-chained trail fails this; pair it
    with `audit verify`, which also checks the keyed hashes and the anchors)."""
    stored = db.exec(select(AuditEvent.hash).where(AuditEvent.id == head.event_id)).first()
    return stored == head.hash


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def text_digest(key: AuditKey, value: str | None) -> str | None:
    """A free text as it enters a keyed hash: its HMAC-SHA256 under the audit key. Keyed, so a redacted
    short text (a name) cannot be found again by hashing guesses without the key."""
    if value is None:
        return None
    return hmac.new(key.secret, b"text\x00" + value.encode(), hashlib.sha256).hexdigest()


def row_hash(
    event: AuditEvent, key: AuditKey | None = None, redacted: Mapping[str, str] | None = None
) -> str:
    """The hash the event must carry. Unkeyed events: SHA-256 of all fields. Keyed events: HMAC-SHA256 with
    the key named by event.key_id; a redacted field (now NULL) enters as the keyed digest kept in `redacted`."""
    key_id = getattr(event, "key_id", None)  # a migration may pass a plain namespace without one
    if key_id is None:
        payload = [
            event.prev_hash,
            event.at.isoformat(),
            event.actor_type,
            event.actor_id,
            event.actor_name,
            event.action,
            event.entity,
            event.entity_id,
            event.field,
            event.old_value,
            event.new_value,
            event.reason,
        ]
        return hashlib.sha256(_canonical(payload)).hexdigest()
    if key is None or key.id != key_id:
        raise AuditKeyMissing(key_id)
    redacted = redacted or {}
    digests = {
        name: redacted[name]
        if getattr(event, name) is None and name in redacted
        else text_digest(key, getattr(event, name))
        for name in TEXT_FIELDS
    }
    payload = [
        "epro-audit-2",
        key_id,
        event.prev_hash,
        event.at.isoformat(),
        event.actor_type,
        event.actor_id,
        digests["actor_name"],
        event.action,
        event.entity,
        event.entity_id,
        event.field,
        digests["old_value"],
        digests["new_value"],
        digests["reason"],
    ]
    return hmac.new(key.secret, _canonical(payload), hashlib.sha256).hexdigest()


def _canonical(payload: list[Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


PENDING = "epro_audit_anchor"


def record(
    db: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = None,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (the caller commits; the commit anchors the head).

    Through a database the app did not set up (a script's own engine, no app) the event is written unkeyed
    and unanchored, as before keys existed; `audit verify` names it if it follows keyed events."""
    settings = configured(db)
    if settings is None:
        logging.getLogger(__name__).warning("audit event %s written without the audit key", action)
    if db.get_bind().dialect.name == "postgresql":
        # Serialise appenders so the chain never forks; released at commit or rollback.
        db.execute(text("SELECT pg_advisory_xact_lock(4242)"))
    prev = db.exec(select(AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    if prev is not None and settings is not None and settings.chain is None:
        settings.chain = db.exec(select(AuditEvent.hash).order_by(col(AuditEvent.id)).limit(1)).one()
    event_row = AuditEvent(
        at=utcnow(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        entity=entity,
        entity_id=_text(entity_id),
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        reason=reason,
        prev_hash=prev or GENESIS,
        hash="",
        key_id=None if settings is None else settings.key.id,
    )
    event_row.hash = row_hash(event_row, None if settings is None else settings.key)
    db.add(event_row)
    db.flush()
    if settings is None:
        return event_row
    chain = settings.chain if prev is not None else event_row.hash
    db.info[PENDING] = (settings.anchor_file, chain, event_row.id, event_row.hash)
    return event_row


@event.listens_for(OrmSession, "after_commit")
def _anchor_after_commit(session: OrmSession) -> None:
    pending = session.info.pop(PENDING, None)
    if pending is not None:
        path, chain, last_id, head = pending
        try:
            anchors.append(path, "commit", chain, last_id, head)
        except OSError:
            # The data is committed; failing the request now would only hide that. `audit verify` reports
            # the events after the newest anchor.
            logging.getLogger(__name__).exception("could not write the audit anchor to %s", path)


@event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session: OrmSession) -> None:
    session.info.pop(PENDING, None)


def init_app(app: Flask) -> None:
    """Set up the key and anchors of the app's database; register the trail's pages, menu entry and commands."""
    from epro.audit.cli import audit_cli
    from epro.audit.routes import bp
    from epro.templating import add_nav_link

    key_file = Path(app.config["AUDIT_KEY_FILE"])
    anchor_file = Path(app.config["AUDIT_ANCHOR_FILE"])
    configure(app.extensions["epro_engine"], TrailSettings(ensure_key(key_file), anchor_file, key_file))
    app.register_blueprint(bp)
    add_nav_link(app, "audit.trail_list", lazy_pgettext("menu", "Audit trail"))
    app.cli.add_command(audit_cli)
