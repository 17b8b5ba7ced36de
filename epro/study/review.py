"""Clinically meaningful change: a submitted visit whose value fell from the same patient's baseline by at
least the protocol's threshold (PS 10, WB 1, QOL 1 in the default protocol) needs a nurse's review. It stays
in the nurse's clinic list until a nurse acknowledges it with a note (audited); investigators only read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import and_, case, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from epro.audit import Actor, record
from epro.models import ChangeReview, Patient, Visit
from epro.schedule import Protocol
from epro.study.population import analysed_patients, baseline_visit_code
from epro.study.sources import sources

NOTE_MAX = 500
#: The clinic list shows at most this many visits needing review, with a count capped just above it.
SHOWN = 50


class NothingToReview(LookupError):
    """The visit has no change from baseline that reaches a threshold."""


class AlreadyAcknowledged(Exception):
    """A nurse has already acknowledged this visit."""


@dataclass(frozen=True, slots=True)
class FlaggedChange:
    measure_code: str
    baseline: float
    value: float
    change: float
    threshold: float


@dataclass(frozen=True, slots=True)
class ReviewItem:
    visit_id: int
    patient_id: int
    study_id: str
    visit_code: str
    changes: tuple[FlaggedChange, ...]


@dataclass(frozen=True, slots=True)
class ReviewList:
    items: list[ReviewItem]
    #: Visits needing review, counted up to SHOWN + 1.
    count: int

    @property
    def more(self) -> bool:
        return self.count > len(self.items)


class ReviewForm(FlaskForm):
    note = TextAreaField(
        _l("Review note"),
        validators=[InputRequired(_l("Please write a review note.")), Length(max=NOTE_MAX)],
    )


def _flagged(protocol: Protocol, visit_id: int | None = None):  # type: ignore[no-untyped-def]
    """Rows (visit id, patient id, study ID, visit code, measure, baseline, value, threshold) of every
    unacknowledged fall that reaches its threshold."""
    baseline = baseline_visit_code(protocol)
    queries = []
    for source, infos in sources(protocol):
        thresholds = {
            key: info.threshold
            for key, code in source.measure_of.items()
            for info in infos
            if info.code == code and info.threshold
        }
        if not thresholds:
            continue
        row, base_row, base_visit = source.alias(), source.alias(), aliased(Visit)
        key = source.key(row)
        threshold = case(*((key == k, t) for k, t in thresholds.items()), else_=None)
        query = (
            select(
                Visit.id,
                Patient.id,
                Patient.study_id,
                Visit.code,
                key.label("measure"),
                source.value(base_row).label("baseline"),
                source.value(row).label("value"),
                threshold.label("threshold"),
            )
            .select_from(row)
            .join(Visit, col(Visit.id) == source.visit_id(row))
            .join(Patient, col(Patient.id) == Visit.patient_id)
            .join(base_visit, and_(base_visit.patient_id == Visit.patient_id, base_visit.code == baseline))
            .join(base_row, and_(source.visit_id(base_row) == base_visit.id, source.key(base_row) == key))
            .where(
                analysed_patients(),
                Visit.code != baseline,
                source.value(row) - source.value(base_row) <= -threshold,
                ~exists().where(ChangeReview.visit_id == Visit.id),
            )
        )
        if visit_id is not None:
            query = query.where(Visit.id == visit_id)
        queries.append((source, query))
    return queries


def needs_review(db: Session, protocol: Protocol, *, limit: int = SHOWN) -> ReviewList:
    grouped: dict[int, list] = defaultdict(list)  # type: ignore[type-arg]
    heads: dict[int, tuple[int, str, str]] = {}
    when: dict[int, object] = {}
    count = 0
    for source, query in _flagged(protocol):
        visits = query.with_only_columns(Visit.id).distinct().subquery()
        count += db.exec(select(func.count()).select_from(select(visits).limit(limit + 1).subquery())).one()
        wanted = (
            query.with_only_columns(Visit.id, Visit.actual_date)
            .distinct()
            .order_by(col(Visit.actual_date).desc(), col(Visit.id).desc())
            .limit(limit)
        )
        latest = dict(db.exec(wanted).all())
        ids = list(latest)
        if not ids:
            continue
        for vid, pid, sid, code, measure, base, value, threshold in db.exec(
            query.where(col(Visit.id).in_(ids))
        ).all():
            heads[vid] = (pid, sid, code)
            when[vid] = latest[vid]
            grouped[vid].append(
                FlaggedChange(
                    source.measure_of.get(measure, measure),
                    float(base),
                    float(value),
                    float(value - base),
                    float(threshold),
                )
            )
    newest = sorted(grouped, key=lambda vid: (str(when[vid] or ""), vid), reverse=True)[:limit]
    items = [ReviewItem(vid, *heads[vid], changes=tuple(grouped[vid])) for vid in newest]
    return ReviewList(items, min(count, limit + 1))


def acknowledge(db: Session, actor: Actor, protocol: Protocol, visit_id: int, note: str) -> ChangeReview:
    """Record a nurse's acknowledgement of the visit's meaningful change, in the caller's transaction."""
    if db.exec(select(ChangeReview.id).where(ChangeReview.visit_id == visit_id)).first() is not None:
        raise AlreadyAcknowledged(visit_id)
    flagged = [row for _source, query in _flagged(protocol, visit_id) for row in db.exec(query).all()]
    if not flagged:
        raise NothingToReview(visit_id)
    review = ChangeReview(visit_id=visit_id, note=note, acknowledged_by_id=actor.id)  # type: ignore[arg-type]
    db.add(review)
    db.flush()
    record(
        db,
        actor,
        "review.acknowledge",
        "change_review",
        review.id,
        field="visit",
        new=visit_id,
        reason=note,
    )
    return review
