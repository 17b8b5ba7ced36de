"""The audit trail as it is stored: every column of every event, oldest first.

Text values (user names typed at a failed sign-in, reasons, old and new values) are made inert for
spreadsheets like in every export (epro.exports.columns.spreadsheet_safe: a leading = + - @, tab or CR,
or ', gets a ' in front). `as_stored` undoes that exactly, so the hash chain can still be re-checked from
the file: each hash is over the previous hash and the event's fields, HMAC-SHA256 with the audit key (kept
outside the database, named by key_id) or SHA-256 for events from before the key (see epro.audit.row_hash).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from epro.codes import ACTOR_TYPE_MEANINGS
from epro.exports.columns import Code, Column, ExportOptions, spreadsheet_safe, stream
from epro.models import AuditEvent
from epro.patient_records import patient_records

COLUMNS = (
    Column("id", _l("Event number, increasing in the order the events were recorded.")),
    Column(
        "at",
        _l("When the event was recorded, in UTC (ISO 8601 with microseconds, ending in Z)."),
        calendar=True,
    ),
    Column("actor_type", _l("Who acted (see the codes below).")),
    Column("actor_id", _l("Staff account number of a staff actor; empty otherwise.")),
    Column(
        "actor_name",
        _l(
            "User name of the staff actor, the user name as typed at a failed sign-in, or cli for the command line."
        ),
    ),
    Column("action", _l("What was done, e.g. response.submit, visit.missed, export.long.")),
    Column("entity", _l("Kind of record acted on, e.g. patient, visit, response, export.")),
    Column("entity_id", _l("Number of the record acted on.")),
    Column("field", _l("Field changed, when one field is concerned.")),
    Column("old_value", _l("Value before the change.")),
    Column("new_value", _l("Value after the change.")),
    Column("reason", _l("Reason given for the change.")),
    Column("prev_hash", _l("Hash of the previous event (64 zeros for the first event).")),
    Column(
        "hash",
        _l(
            "Hash of this event's fields and the previous hash (HMAC-SHA256 with the audit key, or SHA-256 "
            "when key_id is empty): any later edit breaks the chain."
        ),
    ),
    Column(
        "key_id",
        _l(
            "Which audit key hashed the event (a hash of the key, not the key); empty before the key existed."
        ),
    ),
)


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    query = core_select(
        col(AuditEvent.id),
        col(AuditEvent.at),
        col(AuditEvent.actor_type),
        col(AuditEvent.actor_id),
        col(AuditEvent.actor_name),
        col(AuditEvent.action),
        col(AuditEvent.entity),
        col(AuditEvent.entity_id),
        col(AuditEvent.field),
        col(AuditEvent.old_value),
        col(AuditEvent.new_value),
        col(AuditEvent.reason),
        col(AuditEvent.prev_hash),
        col(AuditEvent.hash),
        col(AuditEvent.key_id),
    ).order_by(col(AuditEvent.id))
    if options.patient_id is not None:
        query = query.where(_of_patient(db, options.patient_id))
    for event_id, at, *rest in stream(db, query):
        yield [event_id, _at(at), *(spreadsheet_safe(v) if isinstance(v, str) else v for v in rest)]


def _of_patient(db: Session, patient_id: int) -> ColumnElement[bool]:
    """Events about the patient's own records (the certified copy's audit extract)."""
    by_entity: dict[str, list[str]] = {}
    for entity, entity_id in patient_records(db, [patient_id]):
        by_entity.setdefault(entity, []).append(entity_id)
    if not by_entity:
        return false()
    return or_(
        *(
            and_(col(AuditEvent.entity) == entity, col(AuditEvent.entity_id).in_(ids))
            for entity, ids in sorted(by_entity.items())
        )
    )


def codes(db: Session, options: ExportOptions) -> Iterator[Code]:
    for actor_type, meaning in ACTOR_TYPE_MEANINGS.items():
        yield Code("actor_type", "", actor_type.value, meaning)
