"""Who is analysed, and what counts as baseline: each decided in exactly one place.

- ``analysed_patients()``: the SQL condition selecting the patients in every count, statistic and chart of
  the study overview. Today: every enrolled patient (a day 0 is set). Withdrawn patients (the
  ``patient.withdrawn_on`` / ``withdrawal_reason`` columns come with the staff work) are decided here and
  nowhere else: keep them (intention to treat) and stop counting their visits after withdrawal as overdue,
  by adding the condition to ``expected_visits()``.
- ``baseline_visit_code()``: the baseline is the value at the protocol's baseline visit (its visit coded
  "BL", the first of the protocol). A date-based definition (the last value on or before day 0) is being
  built for the SDTM export; when the two are unified, only this function and the SQL that calls it change.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, true
from sqlmodel import col

from epro.models import Patient
from epro.schedule import Protocol

BASELINE_DEFINITION = "the value at the protocol's baseline visit (BL)"


def analysed_patients() -> ColumnElement[bool]:
    """The patients the overview describes."""
    return and_(col(Patient.procedure_date).is_not(None), col(Patient.protocol_code).is_not(None))


def expected_visits() -> ColumnElement[bool]:
    """The visits of analysed patients that count in the completion matrix (all of them today)."""
    return true()


def baseline_visit_code(protocol: Protocol) -> str:
    """The visit whose values are the baseline: the protocol's baseline visit, BL in the default protocol."""
    return protocol.visits[0].code
