"""The study at a glance as plain, typed data: the page, the printed report and the statistics CSV are all
made from one ``StudyOverview``. Nothing here knows about HTML, PDF or the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from epro.schedule import VisitStatus
from epro.text import Text


@dataclass(frozen=True, slots=True)
class Summary:
    """Descriptive statistics of one group of values (None where n is too small: SD needs 2 values)."""

    n: int
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """Change from baseline: the visit's value minus the same patient's baseline value (paired values)."""

    n: int
    mean: float | None = None
    sd: float | None = None


@dataclass(frozen=True, slots=True)
class MeasureInfo:
    code: str
    name: Text
    unit: str
    #: Places shown for single values; means and SDs get one more.
    decimals: int
    #: "pro" (a patient-reported score) or "clinical" (an index entered by a nurse).
    source: str
    #: A fall from baseline of at least this much is clinically meaningful (None: the protocol sets none).
    threshold: float | None
    scale_min: float | None = None
    scale_max: float | None = None


@dataclass(frozen=True, slots=True)
class VisitInfo:
    code: str
    number: int
    label: Text
    day: int
    is_baseline: bool


@dataclass(frozen=True, slots=True)
class VisitStats:
    visit_code: str
    summary: Summary
    change: Change


@dataclass(frozen=True, slots=True)
class PatientLine:
    study_id: str
    #: (visit code, value) for each visit with a value, in visit order.
    points: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class MeasureStats:
    measure: MeasureInfo
    #: Aligned with StudyOverview.visits.
    visits: tuple[VisitStats, ...]
    #: The patients drawn in the all-patients chart (every patient, or an even sample of a large study).
    lines: tuple[PatientLine, ...] = ()

    def at(self, visit_code: str) -> VisitStats:
        return next(v for v in self.visits if v.visit_code == visit_code)


@dataclass(frozen=True, slots=True)
class VisitCompletion:
    """How the visits of one protocol visit stand, counted over the analysed patients."""

    visit_code: str
    completed: int = 0
    #: Of the completed ones, how many were entered by staff on the patient's behalf.
    staff_entered: int = 0
    #: Of the completed ones, how many were done outside their window.
    late: int = 0
    missed: int = 0
    overdue: int = 0
    due: int = 0
    upcoming: int = 0
    #: Cancelled by the patient's withdrawal: not expected, so not in the total.
    cancelled: int = 0

    @property
    def total(self) -> int:
        """The expected visits."""
        return self.completed + self.missed + self.overdue + self.due + self.upcoming


@dataclass(frozen=True, slots=True)
class Cell:
    """One patient's visit in the completion matrix."""

    visit_code: str
    status: VisitStatus
    staff_entered: bool = False
    late: bool = False
    missed_reason: str | None = None


@dataclass(frozen=True, slots=True)
class MatrixRow:
    patient_id: int
    study_id: str
    cells: tuple[Cell, ...]
    #: Withdrawn from the study on this date, with the reason (the patient stays in the analysis).
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    per_visit: tuple[VisitCompletion, ...]
    #: Visits whose window has closed (the denominator of completion in window).
    closed: int
    #: Of those, completed inside the window.
    completed_in_window: int

    @property
    def rate(self) -> float | None:
        return None if self.closed == 0 else self.completed_in_window / self.closed


@dataclass(frozen=True, slots=True)
class Count:
    code: str
    label: Text
    n: int
    #: Share of the patients counted (Table1.n), 0-100.
    percent: float


@dataclass(frozen=True, slots=True)
class Table1:
    """Baseline characteristics of the analysed patients."""

    n: int
    #: Age at enrolment in years (the year of day 0 minus the birth year).
    age: Summary
    sex: tuple[Count, ...]
    #: Each categorical baseline characteristic of the protocol (aetiology) with its counts, "not recorded" last.
    characteristics: tuple[tuple[Text, tuple[Count, ...]], ...] = ()
    #: Child-Pugh class at baseline (A/B/C, and "not assessed").
    child_pugh: tuple[Count, ...] = ()


@dataclass(frozen=True, slots=True)
class StudyOverview:
    study_name: str
    protocol_name: Text
    today: date
    generated_at: datetime
    visits: tuple[VisitInfo, ...]
    completion: Completion
    measures: tuple[MeasureStats, ...]
    table1: Table1
    #: How many analysed patients there are, and how many the charts draw.
    patients: int
    lines_drawn: int
    notes: tuple[Text, ...] = field(default=())

    def visit(self, code: str) -> VisitInfo:
        return next(v for v in self.visits if v.code == code)

    def measure(self, code: str) -> MeasureStats:
        return next(m for m in self.measures if m.measure.code == code)
