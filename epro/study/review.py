"""Clinically meaningful change: a submitted visit whose value fell from the same patient's baseline (the one
definition of epro.baseline: the last value assessed on or before day 0) by at least the protocol's
threshold (PS 10, WB 1, QOL 1 in the default protocol) needs a nurse's review. It stays
in the nurse's clinic list until a nurse acknowledges it with a note (audited); investigators only read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, Exists, Select, case, exists, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from epro.audit import Actor, record
from epro.capped import Capped
from epro.models import ChangeReview, Patient, Visit
from epro.schedule import Protocol
from epro.study.overview import MeasureInfo
from epro.study.population import analysed_patients, baseline_value_of
from epro.study.sources import Source, sources

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


#: Visits needing review, the most recent first, counted up to SHOWN + 1.
ReviewList = Capped[ReviewItem]


class ReviewForm(FlaskForm):
    note = TextAreaField(
        _l("Review note"),
        validators=[InputRequired(_l("Please write a review note.")), Length(max=NOTE_MAX)],
    )


def _thresholds(source: Source, infos: list[MeasureInfo]) -> dict[str, float]:
    by_code = {info.code: info.threshold for info in infos}
    return {
        key: threshold
        for key, code in source.measure_of.items()
        if (threshold := by_code.get(code)) is not None and threshold > 0
    }


def _falls(
    source: Source, thresholds: dict[str, float], row: Any
) -> tuple[Any, ColumnElement[Any], Any, ColumnElement[bool]]:
    """The measure key, its threshold, the same patient's baseline value, and the test. A visit's own
    baseline value never falls (its change is 0 and every threshold is positive)."""
    key = source.key(row)
    threshold = case(*((key == k, t) for k, t in thresholds.items()), else_=None)
    base = baseline_value_of(source, col(Visit.patient_id), key)
    fell = source.value(row) - base <= -threshold
    return key, threshold, base, fell


#: A source of values with thresholds, the query of its falls' details, and the same test as an EXISTS.
Flagged = tuple[Source, Select[*tuple[Any, ...]], Exists]


def _flagged(protocol: Protocol) -> list[Flagged]:
    """Per source of values with thresholds: the rows (visit id, patient id, study ID, visit code, measure,
    baseline, value, threshold) of each fall that reaches its threshold, and the same test as an EXISTS
    correlated to the outer query's visit."""
    found: list[Flagged] = []
    for source, infos in sources(protocol):
        thresholds = _thresholds(source, infos)
        if not thresholds:
            continue
        row = source.alias()
        key, threshold, base, fell = _falls(source, thresholds, row)
        details = (
            sql_select(
                col(Visit.id),
                col(Patient.id),
                col(Patient.study_id),
                col(Visit.code),
                key.label("measure"),
                base.label("baseline"),
                source.value(row).label("value"),
                threshold.label("threshold"),
            )
            .select_from(row)
            .join(Visit, col(Visit.id) == source.visit_id(row))
            .join(Patient, col(Patient.id) == Visit.patient_id)
            .where(fell)
        )
        row2 = source.alias()
        _key, _threshold, _base, fell2 = _falls(source, thresholds, row2)
        test = exists(select(1).select_from(row2).where(source.visit_id(row2) == Visit.id, fell2))
        found.append((source, details, test))
    return found


def _open_visits(tests: list[Exists], limit: int | None) -> SelectOfScalar[int | None]:
    """Visits with data, not acknowledged, with a fall from baseline reaching a threshold; the most
    recently done first (walked down the actual-date index, stopping after `limit`)."""
    query = (
        select(col(Visit.id))
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .where(
            analysed_patients(),
            col(Visit.actual_date).is_not(None),
            ~exists().where(col(ChangeReview.visit_id) == Visit.id),
            or_(*tests),
        )
        .order_by(col(Visit.actual_date).desc(), col(Visit.id).desc())
    )
    return query if limit is None else query.limit(limit)


def needs_review(db: Session, protocol: Protocol, *, limit: int = SHOWN) -> ReviewList:
    """The visits needing review, kept per data version (any change, an acknowledgement included, is
    audited and so computes it again)."""
    from epro.study import cache

    key = (cache.data_version(db), protocol.code, protocol.version, limit)
    return cache.kept("needs_review", key, lambda: _needs_review(db, protocol, limit=limit))


def _needs_review(db: Session, protocol: Protocol, *, limit: int) -> ReviewList:
    flagged = _flagged(protocol)
    if not flagged:
        return ReviewList([], 0)
    ids = list(db.exec(_open_visits([test for _s, _d, test in flagged], limit + 1)).all())
    shown = ids[:limit]
    changes: dict[int, list[FlaggedChange]] = defaultdict(list)
    heads: dict[int, tuple[int, str, str]] = {}
    for source, details, _test in flagged:
        if not shown:
            break
        for vid, pid, sid, code, measure, base, value, threshold in db.execute(
            details.where(col(Visit.id).in_(shown))
        ).all():
            heads[vid] = (pid, sid, code)
            changes[vid].append(
                FlaggedChange(
                    source.measure_of.get(measure, measure),
                    float(base),
                    float(value),
                    float(value - base),
                    float(threshold),
                )
            )
    items = [ReviewItem(vid, *heads[vid], changes=tuple(changes[vid])) for vid in shown if vid in heads]
    return ReviewList(items, len(ids))


def acknowledge(db: Session, actor: Actor, protocol: Protocol, visit_id: int, note: str) -> ChangeReview:
    """Record a nurse's acknowledgement of the visit's meaningful change, in the caller's transaction."""
    if db.exec(select(ChangeReview.id).where(col(ChangeReview.visit_id) == visit_id)).first() is not None:
        raise AlreadyAcknowledged(visit_id)
    flagged = _flagged(protocol)
    tests = [test for _s, _d, test in flagged]
    if not tests or db.exec(_open_visits(tests, 1).where(col(Visit.id) == visit_id)).first() is None:
        raise NothingToReview(visit_id)
    assert actor.id is not None
    review = ChangeReview(visit_id=visit_id, note=note, acknowledged_by_id=actor.id)
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
