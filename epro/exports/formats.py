"""The exports on offer, each a list of described columns and a generator of rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from epro.exports import audit_trail, baseline, dictionary, long, sdtm
from epro.exports.columns import Code, Column, ExportOptions
from epro.study import stats_export

RowSource = Callable[[Session, ExportOptions], Iterator[list[object]]]
CodeSource = Callable[[Session, ExportOptions], Iterator[Code]]


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    title: LazyString
    summary: LazyString
    columns: tuple[Column, ...]
    rows: RowSource
    #: Its labels come from the definitions in the export language.
    translated: bool
    #: It can replace calendar dates by study days.
    study_days: bool
    #: Language of its labels when the reader names none (SDTM text is English); None: the site's language.
    default_language: str | None = None
    #: The codes its columns hold, with their meanings, for the data dictionary; None: no coded column.
    codes: CodeSource | None = None


def _dictionary_rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    return dictionary.rows(db, options, FORMATS.values())


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "long",
            _l("Long format"),
            _l(
                "One row per answer and per clinical value (laboratory values, weight, doses, grades), with visit, "
                "dates, study day, code, value, unit and sample date."
            ),
            long.COLUMNS,
            long.rows,
            translated=True,
            study_days=True,
            codes=long.codes,
        ),
        ExportFormat(
            "sdtm-qs",
            _l("SDTM QS"),
            _l("The CDISC SDTM questionnaire (QS) layout, with NOT DONE records for visits marked missed."),
            sdtm.COLUMNS,
            sdtm.rows,
            translated=True,
            study_days=True,
            default_language="en",
            codes=sdtm.codes,
        ),
        ExportFormat(
            "stats",
            _l("Statistics per visit"),
            _l(
                "One row per measure and visit: n, mean, SD, median, quartiles, range, and change from "
                "baseline (n paired, mean, SD), as on the study overview."
            ),
            stats_export.COLUMNS,
            stats_export.rows,
            translated=True,
            study_days=False,
        ),
        ExportFormat(
            "baseline",
            _l("Baseline characteristics"),
            _l(
                "One row per patient and baseline characteristic (aetiology, Child-Pugh inputs), with the Child-Pugh score."
            ),
            baseline.COLUMNS,
            baseline.rows,
            translated=True,
            study_days=True,
            codes=baseline.codes,
        ),
        ExportFormat(
            "audit",
            _l("Audit trail"),
            _l("Every recorded event: who did what, when, old and new value, reason, and the hash chain."),
            audit_trail.COLUMNS,
            audit_trail.rows,
            translated=False,
            study_days=False,
            codes=audit_trail.codes,
        ),
        ExportFormat(
            "dictionary",
            _l("Data dictionary"),
            _l("Every column of every export and every code, in Korean and English."),
            dictionary.COLUMNS,
            _dictionary_rows,
            translated=False,
            study_days=False,
        ),
    )
}
