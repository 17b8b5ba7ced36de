"""Replaying the trail against the tables: each registered row must equal what its last audited event
says, must have the event that created it, and no row the trail created may be gone.

A feature makes its table replayable by registering a `Replayable` (see `register`): which audit entity
its events use, how to read its rows as text, which actions create a row, and what each event says about
the row's fields. This module imports no feature; features plug in from their own init_app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import inspect, text
from sqlmodel import Session, col, select

from epro.models import AuditEvent, AuditRedaction, QuestionnaireSession, Response, Visit

#: A value an event cannot tell (its text was redacted): any row value is accepted.
UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    #: The entity_id the row's events use (usually its id).
    key: str
    values: Mapping[str, str | None]
    #: The entity_id of its creating event, when that is not `key` (a visit's: its patient's enrolment).
    creator: str | None = None


@dataclass(frozen=True, slots=True)
class Replayable:
    table: str
    #: audit_event.entity of the events about this row
    entity: str
    rows: Callable[[Session], Iterable[Row]]
    #: Actions that create a row.
    creates: frozenset[str]
    #: What one event says about the row's fields: field name -> value (text, None or UNKNOWN).
    says: Callable[[AuditEvent], Mapping[str, object]]
    #: The state of a row before any event spoke about a field.
    initial: Mapping[str, str | None] = field(default_factory=dict)
    #: The entity and actions that create the row, when another record's events do (visits: enrolment).
    created_by: tuple[str, frozenset[str]] | None = None
    #: Whether a row the trail created but the table no longer holds is a problem.
    rows_are_kept: bool = True


@dataclass(frozen=True, slots=True)
class Mismatch:
    table: str
    row: str
    what: str


_registry: dict[str, Replayable] = {}


def register(replayable: Replayable) -> None:
    """Add (or replace) a replayable table; called at import or from a feature's init_app."""
    _registry[replayable.table] = replayable


def unregister(table: str) -> None:
    _registry.pop(table, None)


def registered() -> list[Replayable]:
    return list(_registry.values())


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


#: (event id, field) of the redacted texts, for the replay under way.
_redacted: ContextVar[frozenset[tuple[int, str]]] = ContextVar("redacted", default=frozenset())


def said(event: AuditEvent, name: str) -> object:
    """One text field of the event as `says` functions should use it: UNKNOWN when it was redacted."""
    value = getattr(event, name)
    return UNKNOWN if value is None and (event.id, name) in _redacted.get() else value


def replay(db: Session) -> list[Mismatch]:
    """Every mismatch between the registered tables and the trail, named by table and row id."""
    tables = set(inspect(db.get_bind()).get_table_names())
    redacted = frozenset(
        (event_id, name)
        for event_id, name in db.exec(select(AuditRedaction.event_id, AuditRedaction.field)).all()
    )
    token = _redacted.set(redacted)
    try:
        return [m for entry in registered() if entry.table in tables for m in _replay_one(db, entry)]
    finally:
        _redacted.reset(token)


def _events(db: Session, entity: str) -> list[AuditEvent]:
    return list(
        db.exec(select(AuditEvent).where(AuditEvent.entity == entity).order_by(col(AuditEvent.id))).all()
    )


def _replay_one(db: Session, entry: Replayable) -> list[Mismatch]:
    expected: dict[str, dict[str, object]] = {}
    created: dict[str, int] = {}
    for event in _events(db, entry.entity):
        assert event.id is not None
        key = event.entity_id or ""
        if event.action in entry.creates and entry.created_by is None:
            created.setdefault(key, event.id)
        said = entry.says(event)
        if said:
            expected.setdefault(key, dict(entry.initial)).update(said)
    if entry.created_by is not None:
        creator_entity, actions = entry.created_by
        for event in _events(db, creator_entity):
            if event.action in actions:
                assert event.id is not None
                created.setdefault(event.entity_id or "", event.id)
    mismatches: list[Mismatch] = []
    seen: set[str] = set()
    for row in entry.rows(db):
        creator = row.creator or row.key
        seen.add(creator)
        if creator not in created:
            mismatches.append(Mismatch(entry.table, str(row.id), "no audit event created this row"))
            continue
        state = expected.get(row.key, dict(entry.initial))
        for name, value in row.values.items():
            if name not in state:
                mismatches.append(Mismatch(entry.table, str(row.id), f"no audit event says its {name}"))
                continue
            want = state[name]
            if want is UNKNOWN or want == value:
                continue
            mismatches.append(
                Mismatch(
                    entry.table,
                    str(row.id),
                    f"{name} is {value!r} but its last audited event says {want!r}",
                )
            )
    if entry.rows_are_kept:
        for key, event_id in created.items():
            if key not in seen:
                mismatches.append(
                    Mismatch(entry.table, key, f"the row is gone, but audit event id {event_id} created it")
                )
    return mismatches


# --- the core tables ------------------------------------------------------------------------------


def _response_rows(db: Session) -> Iterable[Row]:
    for r in db.exec(select(Response)).all():
        assert r.id is not None
        yield Row(
            r.id,
            str(r.id),
            {
                "item": f"{r.instrument_code}.{r.item_code}",
                "value": _text(r.value),
                "correction_reason": r.correction_reason,
            },
        )


def _response_says(event: AuditEvent) -> dict[str, object]:
    if event.action == "response.submit":
        return {"item": event.field, "value": said(event, "new_value")}
    if event.action == "response.correct":
        return {
            "item": event.field,
            "value": said(event, "new_value"),
            "correction_reason": said(event, "reason"),
        }
    return {}


def _visit_rows(db: Session) -> Iterable[Row]:
    for v in db.exec(select(Visit)).all():
        assert v.id is not None
        yield Row(
            v.id,
            str(v.id),
            {
                "status": "missed" if v.missed_at is not None else None,
                "missed_reason": v.missed_reason,
                "scheduled_date": _text(v.scheduled_date),
                "reschedule_reason": v.reschedule_reason,
            },
            creator=str(v.patient_id),
        )


def _visit_says(event: AuditEvent) -> dict[str, object]:
    if event.action == "visit.missed":
        return {"status": "missed", "missed_reason": said(event, "reason")}
    if event.action == "visit.reschedule":
        return {"scheduled_date": said(event, "new_value"), "reschedule_reason": said(event, "reason")}
    return {}


def _session_rows(db: Session) -> Iterable[Row]:
    for s in db.exec(select(QuestionnaireSession)).all():
        assert s.id is not None
        yield Row(s.id, str(s.id), {"state": s.state, "entered_by": s.entered_by})


def _session_says(event: AuditEvent) -> dict[str, object]:
    says: dict[str, dict[str, object]] = {
        "session.start": {"state": "in_progress", "entered_by": "patient"},
        "session.staff_entry": {"state": "in_progress", "entered_by": "staff"},
        "session.cancel": {"state": "cancelled"},
        "session.submit": {"state": "submitted"},
    }
    return says.get(event.action, {})


def _redaction_rows(db: Session) -> Iterable[Row]:
    for r in db.exec(select(AuditRedaction)).all():
        assert r.id is not None
        yield Row(r.id, str(r.event_id), {r.field: r.text_digest})


def _redaction_says(event: AuditEvent) -> dict[str, object]:
    return {event.field: event.new_value} if event.action == "audit.redact" and event.field else {}


register(
    Replayable(
        "response",
        "response",
        _response_rows,
        frozenset({"response.submit"}),
        _response_says,
        initial={"correction_reason": None},
    )
)
register(
    Replayable(
        "visit",
        "visit",
        _visit_rows,
        frozenset(),
        _visit_says,
        initial={"status": None, "missed_reason": None, "scheduled_date": None, "reschedule_reason": None},
        created_by=("patient", frozenset({"patient.enrol"})),
        rows_are_kept=False,
    )
)
register(
    Replayable(
        "questionnaire_session",
        "questionnaire_session",
        _session_rows,
        frozenset({"session.start", "session.staff_entry"}),
        _session_says,
    )
)
register(
    Replayable(
        "audit_redaction",
        "audit_event",
        _redaction_rows,
        frozenset({"audit.redact"}),
        _redaction_says,
        rows_are_kept=False,
    )
)


# --- tables of features built beside this one, read by name (this package imports no feature) -----------


def _signature_rows(db: Session) -> Iterable[Row]:
    """epro.signatures: a row is never changed; its signing event names the meaning, patient, hash, name."""
    query = text("SELECT id, patient_id, meaning, content_hash, signer_name FROM signature")
    for row_id, patient_id, meaning, content_hash, name in db.execute(query).all():
        signed = f"patient={patient_id}; sha256={content_hash}; name={name}"
        yield Row(row_id, str(row_id), {"meaning": meaning, "signed": signed})


def _signature_says(event: AuditEvent) -> dict[str, object]:
    if event.action == "signature.sign":
        return {"meaning": event.field, "signed": said(event, "new_value")}
    return {}


def number_text(value: object) -> str | None:
    """A number as one spelling (3.50, 3.5 and Decimal('3.5000') are all '3.5'); other text unchanged."""
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(number.normalize(), "f") if number.is_finite() else str(value)


def _clinical_rows(db: Session) -> Iterable[Row]:
    """epro.clinical (CLINICAL-INTERFACE.md): one value per visit and measure, number or category."""
    query = text("SELECT id, measure_code, value_number, value_code, correction_reason FROM clinical_value")
    for row_id, measure, number, code, correction_reason in db.execute(query).all():
        value = number_text(number) if number is not None else code
        yield Row(
            row_id, str(row_id), {"measure": measure, "value": value, "correction_reason": correction_reason}
        )


def _clinical_says(event: AuditEvent) -> dict[str, object]:
    """clinical.enter / clinical.correct name the measure in `field` (a sample date as "CODE.sample_date",
    not replayed: its default is the visit's date); clinical.migrate moved a weight (migration 0005)."""
    field_name = event.field or ""
    value = said(event, "new_value")
    value = value if value is UNKNOWN else number_text(value)
    said_value = {} if field_name.endswith(".sample_date") else {"measure": field_name, "value": value}
    if event.action == "clinical.enter":
        return said_value
    if event.action == "clinical.correct":
        return {**said_value, "correction_reason": said(event, "reason")}
    if event.action == "clinical.migrate":
        # The move keeps an earlier correction's reason, which its event does not repeat.
        return {**said_value, "correction_reason": UNKNOWN}
    return {}


register(
    Replayable("signature", "signature", _signature_rows, frozenset({"signature.sign"}), _signature_says)
)
register(
    Replayable(
        "clinical_value",
        "clinical_value",
        _clinical_rows,
        frozenset({"clinical.enter"}),
        _clinical_says,
        initial={"correction_reason": None},
    )
)
