"""Who is analysed, which visits are expected, and which value is the baseline: each decided in one place.

- ``analysed_patients()``: the SQL condition selecting the patients in every count, statistic and chart of
  the study overview: every enrolled patient (a day 0 is set). Withdrawn patients stay in (intention to
  treat): their values before withdrawal count, and they show as withdrawn in the completion matrix.
- ``expected_visits()``: the visits that count in the completion figures. A visit cancelled by the
  patient's withdrawal (epro.schedule.visit_status: an open visit whose window had not closed by the
  withdrawal date) is not expected, so it is never counted as overdue nor in the completion rate.
- The baseline is epro.baseline's one definition, used by the PDF summary and the exports too: for each
  patient and measure, the last value assessed on or before day 0 (the procedure date), whichever visit it
  was entered at; on the same date the later visit wins. ``baseline_rank()`` and ``before_exposure()``
  state that rule in SQL for the grouped statistics (a window function, one pass over the study), and
  ``baseline_value_of()`` for one patient and measure (a correlated look-up on the visit's patient index,
  for the "needs review" worklist that walks visits newest first).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from epro.codes import SessionState
from epro.models import Patient, QuestionnaireSession, Visit


def analysed_patients() -> ColumnElement[bool]:
    """The patients the overview describes."""
    return and_(col(Patient.procedure_date).is_not(None), col(Patient.protocol_code).is_not(None))


def expected_visits() -> ColumnElement[bool]:
    """The visits that count in the completion figures: all but those cancelled by a withdrawal (data or a
    missed mark win over the withdrawal, as in epro.schedule.visit_status). The query joins Patient and the
    visit's live QuestionnaireSession (outer)."""
    return or_(
        col(Patient.withdrawn_on).is_(None),
        col(Visit.window_end) < Patient.withdrawn_on,
        col(Visit.missed_at).is_not(None),
        func.coalesce(QuestionnaireSession.state, "") == SessionState.SUBMITTED,
    )


def before_exposure(assessed_on: Any) -> ColumnElement[bool]:
    """epro.baseline.is_before_exposure in SQL: assessed on or before day 0 (the query joins Patient)."""
    return and_(col(assessed_on).is_not(None), assessed_on <= Patient.procedure_date)


def baseline_rank(key: Any, assessed_on: Any) -> Any:
    """1 for each patient's and measure's baseline among the rows ``before_exposure`` keeps: the latest
    assessment date, on the same date the later visit (epro.baseline.baseline_key). The query joins Visit."""
    return func.row_number().over(
        partition_by=(Visit.patient_id, key),
        order_by=(col(assessed_on).desc(), col(Visit.number).desc()),
    )


def baseline_values(source: Any) -> Any:
    """A subquery of every analysed patient's baseline per measure of ``source`` (epro.study.sources):
    columns patient_id, key, value and visit_id."""
    row = source.alias()
    assessed = source.assessed_on(row)
    ranked = (
        select(
            col(Visit.patient_id).label("patient_id"),
            source.key(row).label("key"),
            source.value(row).label("value"),
            source.visit_id(row).label("visit_id"),
            baseline_rank(source.key(row), assessed).label("rank"),
        )
        .select_from(row)
        .join(Visit, col(Visit.id) == source.visit_id(row))
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .where(analysed_patients(), source.where(row), before_exposure(assessed))
        .subquery("ranked")
    )
    return (
        select(ranked.c.patient_id, ranked.c.key, ranked.c.value, ranked.c.visit_id)
        .where(ranked.c.rank == 1)
        .subquery("baseline")
    )


def baseline_value_of(source: Any, patient_id: Any, key: Any) -> Any:
    """A scalar subquery: the baseline value of one patient (a column of the outer query) and measure key."""
    row, visit, patient = source.alias(), aliased(Visit), aliased(Patient)
    assessed = source.assessed_on(row)
    return (
        select(source.value(row))
        .select_from(row)
        .join(visit, visit.id == source.visit_id(row))
        .join(patient, patient.id == visit.patient_id)
        .where(
            visit.patient_id == patient_id,
            source.key(row) == key,
            source.where(row),
            col(assessed).is_not(None),
            assessed <= patient.procedure_date,
        )
        .order_by(col(assessed).desc(), col(visit.number).desc())
        .limit(1)
        .correlate_except(row, visit, patient)
        .scalar_subquery()
    )
