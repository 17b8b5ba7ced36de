"""The statistics export: one row per visit and measure, from the same StudyOverview as the page."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from epro.exports.columns import Column, ExportOptions

COLUMNS = (
    Column("measure_code", _l("Measure code: a questionnaire (PS, WB, QOL) or a clinical index.")),
    Column("measure_name", _l("Measure name in the export language.")),
    Column("unit", _l("Unit of the measure's values (empty for a score without one).")),
    Column("visit_code", _l("Visit code from the protocol (see the codes below).")),
    Column("visit_label", _l("Visit name in the export language.")),
    Column("planned_study_day", _l("Planned study day of the visit (day 0 = procedure date).")),
    Column("n", _l("Patients with a value at the visit.")),
    Column("mean", _l("Mean of the values (empty when n is 0).")),
    Column("sd", _l("Standard deviation of the values, with n - 1 (empty when n is below 2).")),
    Column("median", _l("Median of the values.")),
    Column("q1", _l("First quartile (linear interpolation, as R type 7 and Excel QUARTILE.INC).")),
    Column("q3", _l("Third quartile (linear interpolation, as R type 7 and Excel QUARTILE.INC).")),
    Column("min", _l("Smallest value.")),
    Column("max", _l("Largest value.")),
    Column(
        "change_n",
        _l(
            "Patients with both a value at the visit and a baseline value (empty at visits planned on or"
            " before day 0)."
        ),
    ),
    Column(
        "change_mean",
        _l(
            "Mean change from baseline: the visit's value minus the baseline value, the patient's last value"
            " of the measure assessed on or before day 0 (whichever visit it was entered at)."
        ),
    ),
    Column("change_sd", _l("Standard deviation of the change from baseline, with n - 1.")),
)


def _number(value: float | None) -> object:
    return "" if value is None else round(value, 6)


def rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    from epro.study import overview_for

    overview = overview_for(db)
    language = options.language
    for stats in overview.measures:
        measure = stats.measure
        for row in stats.visits:
            visit = overview.visit(row.visit_code)
            s, c = row.summary, row.change
            yield [
                measure.code,
                measure.name(language),
                measure.unit,
                visit.code,
                visit.label(language),
                visit.day,
                s.n,
                *(_number(v) for v in (s.mean, s.sd, s.median, s.q1, s.q3, s.low, s.high)),
                "" if visit.is_baseline else c.n,
                _number(c.mean),
                _number(c.sd),
            ]
