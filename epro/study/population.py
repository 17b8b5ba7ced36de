"""Who is analysed, which visits are expected, and which value is the baseline: each decided in one place.

- ``analysed_patients()``: the SQL condition selecting the patients in every count, statistic and chart of
  the study overview: every enrolled patient (a day 0 is set). Withdrawn patients stay in (intention to
  treat): their values before withdrawal count, and they show as withdrawn in the completion matrix.
- The visits that count in the completion figures are decided with each patient's share of the tallies
  (epro.study.contributions): a visit cancelled by the patient's withdrawal (epro.schedule.visit_status: an
  open visit whose window had not closed by the withdrawal date) is not expected, so it is never counted
  as overdue nor in the completion rate.
- The baseline is epro.baseline's one definition, used by the PDF summary and the exports too: for each
  patient and measure, the last value assessed on or before day 0 (the procedure date), whichever visit it
  was entered at; on the same date the later visit wins. The tallies call epro.baseline for each patient;
  ``baseline_value_of()`` states the rule in SQL for one patient and measure (a correlated look-up on the
  visit's patient index, for the "needs review" worklist that walks visits newest first).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from epro.codes import SessionState
from epro.models import Patient, QuestionnaireSession, Visit


def analysed_patients() -> ColumnElement[bool]:
    """The patients the overview describes."""
    return and_(col(Patient.procedure_date).is_not(None), col(Patient.protocol_code).is_not(None))


def live_session() -> ColumnElement[bool]:
    """The join condition of a visit (Visit) and its questionnaire session unless cancelled (outer join)."""
    return and_(
        col(QuestionnaireSession.visit_id) == Visit.id,
        col(QuestionnaireSession.state) != SessionState.CANCELLED,
    )


def baseline_value_of(source: Any, patient_id: Any, key: Any) -> Any:
    """A scalar subquery: the baseline value of one patient (a column of the outer query) and measure key."""
    row, visit, patient = source.alias(), aliased(Visit), aliased(Patient)
    assessed = source.assessed_on(row)
    return (
        select(source.value(row))
        .select_from(row)
        .join(visit, col(visit.id) == source.visit_id(row))
        .join(patient, col(patient.id) == visit.patient_id)
        .where(
            col(visit.patient_id) == patient_id,
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
