"""The CDISC SDTM QS layout: one record per item result, and NOT DONE records for visits marked missed.

Rules (also in the data dictionary):
- Reference start date (RFSTDTC) is the procedure date (day 0 of the schedule). QSDY follows SDTM: no day 0;
  the procedure date is day 1, the day before it is day -1.
- QSDTC is the visit's actual date (date precision: the questionnaire belongs to the visit's date).
- A visit the nurse marked missed gives one record per item due, with QSSTAT = NOT DONE, QSREASND = the reason
  and no result (never 0). A visit that is merely overdue (window closed, nothing recorded, nobody marked it)
  gives no records: nothing was confirmed about it, and it may still be marked or explained.
- QSBLFL = Y on the results of the baseline visit (the protocol visit planned last on or before day 0).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import groupby

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, or_, select

from epro import instruments
from epro.exports.columns import Column, ExportOptions, iso_date, spreadsheet_safe, stream
from epro.exports.definitions import baseline_code, option_label, qs_test_fields, visit_label
from epro.models import Patient, Response, Visit
from epro.schedule import study_day

NOT_DONE = "NOT DONE"

COLUMNS = (
    Column("STUDYID", _l("Study identifier (the site's SDTM study code).")),
    Column("DOMAIN", _l("Domain abbreviation: always QS (questionnaires).")),
    Column("USUBJID", _l("Unique subject identifier: STUDYID, a hyphen, and the study ID.")),
    Column("QSSEQ", _l("Sequence number of the record within the subject, from 1.")),
    Column(
        "QSTESTCD",
        _l("Short test code (the project's own codes, at most 8 characters; see the codes below)."),
    ),
    Column("QSTEST", _l("Test name in the export language.")),
    Column("QSCAT", _l("Category: the instrument code and version, e.g. EPRO PS 1.0.")),
    Column(
        "QSORRES",
        _l(
            "Result as answered: the wording of the chosen answer in the export language. Empty when not done."
        ),
    ),
    Column(
        "QSSTRESC", _l("Standardised result as text: the numeric code of the answer. Empty when not done.")
    ),
    Column(
        "QSSTRESN",
        _l("Standardised result as a number: the numeric code of the answer. Empty when not done, never 0."),
    ),
    Column("QSSTAT", _l("Completion status: NOT DONE when the visit was marked missed; otherwise empty.")),
    Column("QSREASND", _l("Reason not done: the reason the nurse gave when marking the visit missed.")),
    Column("VISITNUM", _l("Visit number: the visit's order in the protocol, from 1.")),
    Column("VISIT", _l("Visit name in the export language.")),
    Column(
        "QSDTC",
        _l("Date of collection: the visit's actual date (ISO 8601). Empty when not done."),
        calendar=True,
    ),
    Column(
        "QSDY",
        _l(
            "Study day of collection, SDTM rule: the procedure date is day 1, the day before it is day -1 (there is no day 0)."
        ),
    ),
    Column(
        "QSEVLINT",
        _l(
            'Evaluation interval (recall period) as an ISO 8601 duration: -P1W = the past week; empty for "today".'
        ),
    ),
    Column("QSBLFL", _l("Baseline flag: Y on the results of the baseline visit.")),
)


def sdtm_study_day(day0: date, on: date) -> int:
    """SDTM --DY: day 1 is the reference date, the day before it is -1; there is no day 0."""
    days = study_day(day0, on)
    return days + 1 if days >= 0 else days


def rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    query = (
        select(
            Patient.study_id,
            Patient.procedure_date,
            Patient.protocol_code,
            Patient.protocol_version,
            col(Visit.id).label("visit_id"),
            col(Visit.code).label("visit_code"),
            Visit.number,
            Visit.actual_date,
            Visit.instruments,
            Visit.missed_reason,
            Response.instrument_code,
            Response.instrument_version,
            Response.item_code,
            Response.value,
        )
        .select_from(Visit)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .join(Response, col(Response.visit_id) == Visit.id, isouter=True)
        .where(or_(col(Response.id).is_not(None), col(Visit.missed_at).is_not(None)))
        .order_by(col(Patient.study_id), col(Visit.number), col(Response.id))
    )
    language = options.language
    sequence, subject = 0, None
    for _visit_id, group in groupby(stream(db, query), key=lambda row: row.visit_id):
        visit = list(group)  # one visit's items: a handful of rows
        first = visit[0]
        if first.study_id != subject:
            sequence, subject = 0, first.study_id
        common = [options.studyid, "QS", f"{options.studyid}-{first.study_id}"]
        visit_name = visit_label(first.protocol_code, first.protocol_version, first.visit_code, language)
        if first.instrument_code is None:  # marked missed, no data: one NOT DONE record per item due
            reason = spreadsheet_safe(first.missed_reason)
            for code in first.instruments.split():
                instrument = instruments.current(code)
                for item in instrument.items:
                    sequence += 1
                    testcd, test, cat, interval = qs_test_fields(
                        code, instrument.version, item.code, language
                    )
                    yield [
                        *common,
                        sequence,
                        testcd,
                        test,
                        cat,
                        "",  # QSORRES, QSSTRESC, QSSTRESN: no result, never 0
                        "",
                        "",
                        NOT_DONE,
                        reason,
                        first.number,
                        visit_name,
                        "",  # QSDTC, QSDY: nothing was collected
                        "",
                        interval,
                        "",
                    ]
            continue
        baseline = (
            "Y" if first.visit_code == baseline_code(first.protocol_code, first.protocol_version) else ""
        )
        collected = iso_date(first.actual_date)
        day = "" if first.actual_date is None else sdtm_study_day(first.procedure_date, first.actual_date)
        for row in visit:
            sequence += 1
            testcd, test, cat, interval = qs_test_fields(
                row.instrument_code, row.instrument_version, row.item_code, language
            )
            yield [
                *common,
                sequence,
                testcd,
                test,
                cat,
                option_label(row.instrument_code, row.instrument_version, row.item_code, row.value, language),
                str(row.value),
                row.value,
                "",
                "",
                first.number,
                visit_name,
                collected,
                day,
                interval,
                baseline,
            ]
