"""Reading the audit trail for people: one page of the events the filters keep (the filters' form is in
epro.audit.forms), and words for the codes the trail stores (actions, records, actors) in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from epro.codes import AUDIT_ENTITY_WORDS
from epro.models import (
    AuditEvent,
    ClinicalValue,
    Patient,
    PatientCharacteristic,
    QuestionnaireSession,
    Response,
    StaffUser,
    Visit,
)

PER_PAGE = 50
_Query = TypeVar("_Query", bound=SelectOfScalar[Any])
_Value = TypeVar("_Value")


@dataclass(frozen=True, slots=True)
class Filters:
    action: str = ""
    entity: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def query_args(self, page: int | None = None) -> dict[str, str]:
        """The filters as query-string arguments (for links to other pages), empty ones left out."""
        values = {
            "action": self.action,
            "entity": self.entity,
            "actor": self.actor,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "page": str(page or self.page),
        }
        return {key: value for key, value in values.items() if value and (key, value) != ("page", "1")}


def _filtered(query: _Query, filters: Filters, zone: tzinfo) -> _Query:
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.entity:
        query = query.where(AuditEvent.entity == filters.entity)
    if filters.actor:
        query = query.where(col(AuditEvent.actor_name).icontains(filters.actor, autoescape=True))
    # Dates are the clinic's calendar days: from the start of the first to the end of the last.
    if filters.date_from:
        query = query.where(AuditEvent.at >= datetime.combine(filters.date_from, time(), zone))
    if filters.date_to:
        query = query.where(
            AuditEvent.at < datetime.combine(filters.date_to + timedelta(days=1), time(), zone)
        )
    return query


@dataclass(frozen=True, slots=True)
class TrailPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int


def trail_page(db: Session, filters: Filters, zone: tzinfo) -> TrailPage:
    """Newest first, PER_PAGE events of those the filters keep."""
    total = db.exec(_filtered(select(func.count()).select_from(AuditEvent), filters, zone)).one()
    pages = max(1, -(-total // PER_PAGE))
    events = db.exec(
        _filtered(select(AuditEvent), filters, zone)
        .order_by(col(AuditEvent.id).desc())
        .offset((filters.page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return TrailPage(list(events), total, filters.page, pages)


def known_codes(db: Session, column: Mapped[str]) -> list[str]:
    """The distinct values a column holds, for the filter lists."""
    return sorted(db.exec(select(column).distinct()).all())


def action_label(action: str) -> str:
    labels = {
        "auth.sign_in": _("Signed in"),
        "auth.sign_in_failed": _("Sign-in failed"),
        "auth.sign_out": _("Signed out"),
        "auth.account_locked": _("Account locked after failed sign-ins"),
        "staff.create": _("Staff account created"),
        "staff.update": _("Staff account changed"),
        "staff.password_reset": _("Password reset"),
        "patient.create": _("Patient registered"),
        "patient.update": _("Patient details changed"),
        "patient.enrol": _("Patient enrolled"),
        "patient.day0_correct": _("Procedure date corrected"),
        "patient.withdraw": _("Withdrawn from the study"),
        "visit.day0_move": _("Visit moved with the procedure date"),
        "visit.reschedule": _("Visit rescheduled"),
        "visit.missed": _("Visit marked as missed"),
        "visit.weight": _("Body weight recorded"),
        "clinical.enter": _("Clinical value entered"),
        "clinical.correct": _("Clinical value corrected"),
        "clinical.migrate": _("Clinical value moved by a database upgrade"),
        "characteristic.enter": _("Baseline characteristic entered"),
        "characteristic.change": _("Baseline characteristic changed"),
        "session.start": _("Tablet session started"),
        "session.resume": _("Tablet session resumed"),
        "session.idle_lock": _("Tablet locked after inactivity"),
        "session.pause": _("Tablet paused"),
        "session.cancel": _("Questionnaire session cancelled"),
        "session.staff_entry": _("Answers entered by staff"),
        "session.submit": _("Questionnaires submitted"),
        "response.submit": _("Answer submitted"),
        "response.correct": _("Answer corrected"),
        "database.backup": _("Database backup taken"),
        "database.restore": _("Database restored from a backup"),
        "audit.redact": _("Audit entry redacted"),
        "signature.sign": _("Signed by the investigator"),
        "signature.failed": _("Signing failed (wrong password)"),
        "signature.locked": _("Signing locked after failed attempts"),
        "review.acknowledge": _("Change from baseline acknowledged"),
    }
    if action in labels:
        return labels[action]
    if action.startswith("export."):
        return _("Export: %(kind)s", kind=action.removeprefix("export."))
    return action


def entity_label(entity: str) -> str:
    found = AUDIT_ENTITY_WORDS.get(entity)
    return _(found) if found else entity


def actor_label(event: AuditEvent) -> str:
    if event.actor_type == "staff":
        return event.actor_name or _("Staff member")
    if event.actor_type == "patient":
        return _("Patient (tablet)")
    if event.actor_type == "anonymous":
        return _("Not signed in, typed: %(name)s", name=event.actor_name or "")
    if event.actor_type == "system":
        return _("System (%(name)s)", name=event.actor_name or "")
    return event.actor_name or event.actor_type


def _ids(events: list[AuditEvent], entity: str) -> set[int]:
    return {int(e.entity_id) for e in events if e.entity == entity and e.entity_id and e.entity_id.isdigit()}


def _by_id(
    db: Session, id_column: Mapped[int | None], value_column: Mapped[_Value], ids: set[int]
) -> dict[int, _Value]:
    """row id -> value_column, for the rows whose id is in ids (one query, none for no ids)."""
    if not ids:
        return {}
    rows = db.exec(select(id_column, value_column).where(id_column.in_(ids))).all()
    return {row_id: value for row_id, value in rows if row_id is not None}


def describe_records(
    db: Session, events: list[AuditEvent], visit_label: Callable[[Visit], str]
) -> dict[tuple[str, str], str]:
    """(entity, id) -> what a monitor recognises: a study ID and visit rather than a row number."""
    visit_of: dict[tuple[str, int], int] = {}
    for entity, id_column, visit_column in (
        ("questionnaire_session", col(QuestionnaireSession.id), col(QuestionnaireSession.visit_id)),
        ("response", col(Response.id), col(Response.visit_id)),
        ("clinical_value", col(ClinicalValue.id), col(ClinicalValue.visit_id)),
    ):
        for row_id, visit_id in _by_id(db, id_column, visit_column, _ids(events, entity)).items():
            visit_of[(entity, row_id)] = visit_id
    visit_ids = _ids(events, "visit") | set(visit_of.values())
    visits: dict[int, str] = {}
    if visit_ids:
        for visit, study_id in db.exec(
            select(Visit, Patient.study_id)
            .join(Patient, col(Patient.id) == Visit.patient_id)
            .where(col(Visit.id).in_(visit_ids))
        ).all():
            if visit.id is not None:
                visits[visit.id] = f"{study_id} · {visit_label(visit)}"
    names: dict[tuple[str, int], str] = {}
    for entity, id_column, name_column in (
        ("patient", col(Patient.id), col(Patient.study_id)),
        ("staff_user", col(StaffUser.id), col(StaffUser.username)),
    ):
        for row_id, name in _by_id(db, id_column, name_column, _ids(events, entity)).items():
            names[(entity, row_id)] = name
    characteristic_ids = _ids(events, "patient_characteristic")
    if characteristic_ids:
        for characteristic_id, study_id in db.exec(
            select(PatientCharacteristic.id, Patient.study_id)
            .join(Patient, col(Patient.id) == PatientCharacteristic.patient_id)
            .where(col(PatientCharacteristic.id).in_(characteristic_ids))
        ).all():
            if characteristic_id is not None:
                names[("patient_characteristic", characteristic_id)] = study_id
    described: dict[tuple[str, str], str] = {}
    for event in events:
        if not (event.entity_id and event.entity_id.isdigit()):
            continue
        key, row_id = (event.entity, event.entity_id), int(event.entity_id)
        if event.entity == "visit" and row_id in visits:
            described[key] = visits[row_id]
        elif (event.entity, row_id) in visit_of and visit_of[(event.entity, row_id)] in visits:
            described[key] = visits[visit_of[(event.entity, row_id)]]
        elif (event.entity, row_id) in names:
            described[key] = names[(event.entity, row_id)]
    return described
