"""Clinically meaningful change: a submitted visit whose value fell from the same patient's baseline by at
least the protocol's threshold (PS 10, WB 1, QOL 1 in the default protocol) needs a nurse's review. It stays
in the nurse's clinic list until a nurse acknowledges it with a note (audited); investigators only read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import and_, case, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from epro.audit import Actor, record
from epro.models import ChangeReview, Patient, Visit
from epro.schedule import Protocol
from epro.study.population import analysed_patients, baseline_visit_code
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


def _thresholds(source: Source, infos: list) -> dict[str, float]:  # type: ignore[type-arg]
    by_code = {info.code: info for info in infos}
    return {
        key: by_code[code].threshold
        for key, code in source.measure_of.items()
        if code in by_code and by_code[code].threshold
    }


def _falls(source: Source, thresholds: dict[str, float], baseline: str, row, base_row, base_visit):  # type: ignore[no-untyped-def]
    """The measure key, its threshold, the joins to the same patient's baseline value, and the test."""
    key = source.key(row)
    threshold = case(*((key == k, t) for k, t in thresholds.items()), else_=None)
    joined = and_(base_visit.patient_id == Visit.patient_id, base_visit.code == baseline)
    paired = and_(source.visit_id(base_row) == base_visit.id, source.key(base_row) == key)
    fell = source.value(row) - source.value(base_row) <= -threshold
    return key, threshold, joined, paired, fell


def _flagged(protocol: Protocol):  # type: ignore[no-untyped-def]
    """Per source of values with thresholds: the rows (visit id, patient id, study ID, visit code, measure,
    baseline, value, threshold) of each fall that reaches its threshold, and the same test as an EXISTS
    correlated to the outer query's visit."""
    baseline = baseline_visit_code(protocol)
    found = []
    for source, infos in sources(protocol):
        thresholds = _thresholds(source, infos)
        if not thresholds:
            continue

        row, base_row, base_visit = source.alias(), source.alias(), aliased(Visit)
        key, threshold, joined, paired, fell = _falls(source, thresholds, baseline, row, base_row, base_visit)
        details = (
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
            .join(base_visit, joined)
            .join(base_row, paired)
            .where(fell)
        )
        row2, base_row2, base_visit2 = source.alias(), source.alias(), aliased(Visit)
        _key, _threshold, joined2, paired2, fell2 = _falls(
            source, thresholds, baseline, row2, base_row2, base_visit2
        )
        test = exists(
            select(1)
            .select_from(row2)
            .join(base_visit2, joined2)
            .join(base_row2, paired2)
            .where(source.visit_id(row2) == Visit.id, fell2)
        )
        found.append((source, details, test))
    return baseline, found


def _open_visits(baseline: str, tests: list, limit: int | None):  # type: ignore[no-untyped-def]
    """Visits with data, not the baseline, not acknowledged, with a fall reaching a threshold; the most
    recently done first (walked down the actual-date index, stopping after `limit`)."""
    query = (
        select(Visit.id)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .where(
            analysed_patients(),
            col(Visit.actual_date).is_not(None),
            Visit.code != baseline,
            ~exists().where(ChangeReview.visit_id == Visit.id),
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
    baseline, flagged = _flagged(protocol)
    if not flagged:
        return ReviewList([], 0)
    ids = list(db.exec(_open_visits(baseline, [test for _s, _d, test in flagged], limit + 1)).all())
    shown = ids[:limit]
    changes: dict[int, list[FlaggedChange]] = defaultdict(list)
    heads: dict[int, tuple[int, str, str]] = {}
    for source, details, _test in flagged:
        if not shown:
            break
        for vid, pid, sid, code, measure, base, value, threshold in db.exec(
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
    if db.exec(select(ChangeReview.id).where(ChangeReview.visit_id == visit_id)).first() is not None:
        raise AlreadyAcknowledged(visit_id)
    baseline, flagged = _flagged(protocol)
    tests = [test for _s, _d, test in flagged]
    if not tests or db.exec(_open_visits(baseline, tests, 1).where(Visit.id == visit_id)).first() is None:
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
