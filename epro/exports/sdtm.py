"""SDTM QS as one CSV: the same records as qs.xpt in the SDTM package (epro.sdtm.qs), one row each.

Labels are English (ASCII) by default; `--lang ko` gives Korean test, answer and visit names for a person
to read, never for submission. The rules (baseline by assessment date, NOT DONE, study days) are in
epro/exports/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import cast

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from epro import instruments
from epro.codes import LANGUAGES
from epro.exports.columns import Code, Column, ExportOptions, spreadsheet_safe
from epro.exports.definitions import (
    category,
    evaluation_interval,
    protocols_in_use,
    qs_test_code,
    qs_test_name,
    visit_meaning,
)
from epro.sdtm.common import StudyFacts
from epro.sdtm.qs import NOT_DONE, qs_records
from epro.sdtm.spec import QS
from epro.text import Text

__all__ = ["COLUMNS", "NOT_DONE", "codes", "rows"]

_DESCRIPTIONS = {
    "STUDYID": _l("Study identifier (the site's SDTM study code)."),
    "DOMAIN": _l("Domain abbreviation: always QS (questionnaires)."),
    "USUBJID": _l("Unique subject identifier: STUDYID, a hyphen, and the study ID."),
    "QSSEQ": _l("Sequence number of the record within the subject, from 1."),
    "QSTESTCD": _l("Short test code (the project's own codes, at most 8 characters; see the codes below)."),
    "QSTEST": _l("Test name in the export language."),
    "QSCAT": _l(
        "Category: the instrument's English name, the same for every version (the version is in SUPPQS)."
    ),
    "QSORRES": _l(
        "Result as answered: the wording of the chosen answer in the export language. Empty when not done."
    ),
    "QSSTRESC": _l("Standardised result as text: the numeric code of the answer. Empty when not done."),
    "QSSTRESN": _l(
        "Standardised result as a number: the numeric code of the answer. Empty when not done, never 0."
    ),
    "QSSTAT": _l("Completion status: NOT DONE when the visit was marked missed; otherwise empty."),
    "QSREASND": _l("Reason not done: the reason the nurse gave when marking the visit missed."),
    "QSLOBXFL": _l(
        "Last observation before exposure: Y on the last answer assessed on or before day 0, per subject and test."
    ),
    "QSBLFL": _l("Baseline flag: Y on the same record as QSLOBXFL."),
    "VISITNUM": _l("Visit number: the visit's order in the protocol, from 1."),
    "VISIT": _l("Visit name in the export language."),
    "QSDTC": _l(
        "Date of the assessment (ISO 8601): the clinic date on the tablet, or the date staff gave when transcribing. Empty when not done."
    ),
    "QSDY": _l(
        "Study day of collection, SDTM rule: the procedure date is day 1, the day before it is day -1 (there is no day 0)."
    ),
    "QSEVLINT": _l(
        'Evaluation interval (recall period) as an ISO 8601 duration: -P1W = the past week; empty for "today".'
    ),
}

COLUMNS = tuple(Column(name, _DESCRIPTIONS[name], calendar=name == "QSDTC") for name in QS.names)


def rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    facts = replace(StudyFacts.from_config(), studyid=options.studyid)
    for record in qs_records(db, facts, options.language):
        values = record.values
        values["QSREASND"] = spreadsheet_safe(cast("str | None", values["QSREASND"]))  # the missed reason
        yield [values[name] for name in QS.names]


def codes(db: Session, options: ExportOptions) -> Iterator[Code]:
    """Every code the QS layout writes: the study, the domain, NOT DONE, the baseline flags, the visits, and
    each instrument's category, recall period, test codes and answer codes."""
    yield Code("STUDYID", "", options.studyid, _l("This study."))
    yield Code("DOMAIN", "", "QS", _l("Questionnaires."))
    yield Code("QSSTAT", "", NOT_DONE, _l("Not done: the visit was marked missed."))
    yield Code("QSLOBXFL", "", "Y", _l("Baseline record: the last answer assessed on or before day 0."))
    yield Code("QSBLFL", "", "Y", _l("Baseline record."))
    for protocol in protocols_in_use(db):
        for visit in protocol.visits:
            yield Code("VISITNUM", f"{protocol.code} {protocol.version}", visit.number, visit_meaning(visit))
    for (code, version), instrument in sorted(instruments.all_instruments().items()):
        scope = f"{code} {version}"
        yield Code("QSCAT", scope, category(instrument), instrument.name)
        interval = evaluation_interval(instrument)
        if interval:
            yield Code("QSEVLINT", scope, interval, instrument.recall)
        for item in instrument.items:
            name = Text(*(qs_test_name(instrument, item, language) for language in LANGUAGES))
            yield Code("QSTESTCD", scope, qs_test_code(instrument, item), name)
            for option in item.options:
                yield Code("QSSTRESN", f"{scope} {item.code}", option.value, option.label)
