"""QS (one record per answer, and NOT DONE per item of a visit marked missed) and SUPPQS.

Records are made one subject at a time (the query is ordered by subject), so the baseline can be flagged by
date across the subject's visits while memory stays at one subject's records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import Row, Select, select
from sqlmodel import Session, col, or_

from epro import instruments
from epro.exports.columns import iso_date, stream
from epro.exports.definitions import option_label, qs_test_fields
from epro.models import Patient, Response, Visit
from epro.sdtm.common import StudyFacts, ascii_text, flag_baseline, sdtm_day
from epro.visit_labels import visit_label

NOT_DONE = "NOT DONE"

#: SUPPQS qualifiers: QNAM -> (QLABEL, QORIG).
SUPP_QUALIFIERS = {
    "QSENTBY": ("Entered By", "Collected"),
    "QSCORR": ("Corrected After Submission", "Derived"),
    "QSINSTV": ("Instrument Version", "Assigned"),
    "QSLANG": ("Language Shown", "Collected"),
}
ENTERED_BY = {"patient": "PATIENT", "staff": "STAFF"}
#: ISO 639-2 codes of the language an item was shown in.
LANGUAGE_CODES = {"ko": "KOR", "en": "ENG"}


@dataclass(slots=True)
class QsRecord:
    values: dict[str, object]
    #: SUPPQS qualifiers of this record: QNAM -> QVAL.
    supp: dict[str, str] = field(default_factory=dict)


def _query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            col(Patient.study_id),
            col(Patient.procedure_date),
            col(Patient.protocol_code),
            col(Patient.protocol_version),
            col(Visit.id).label("visit_id"),
            col(Visit.code).label("visit_code"),
            col(Visit.number),
            col(Visit.instruments),
            col(Visit.missed_reason),
            col(Response.instrument_code),
            col(Response.instrument_version),
            col(Response.item_code),
            col(Response.value),
            col(Response.assessment_date),
            col(Response.entered_by),
            col(Response.language),
            col(Response.corrected_at).is_not(None).label("corrected"),
        )
        .select_from(Visit)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .join(Response, col(Response.visit_id) == Visit.id, isouter=True)
        .where(col(Patient.procedure_date).is_not(None))
        .where(or_(col(Response.id).is_not(None), col(Visit.missed_at).is_not(None)))
        .order_by(col(Patient.study_id), col(Visit.number), col(Response.id))
    )


def qs_records(db: Session, facts: StudyFacts, language: str = "en") -> Iterator[QsRecord]:
    """Every QS record, subject by subject, in visit order; labels in ``language`` (English is ASCII)."""
    for _subject, rows in groupby(stream(db, _query()), key=lambda row: row.study_id):
        yield from _subject_records(list(rows), facts, language)


def _text(text: str, language: str) -> str:
    return ascii_text(text) if language == "en" else text


def _subject_records(rows: list[Row[*tuple[Any, ...]]], facts: StudyFacts, language: str) -> list[QsRecord]:
    first = rows[0]
    day0 = first.procedure_date
    common = {"STUDYID": facts.studyid, "DOMAIN": "QS", "USUBJID": facts.usubjid(first.study_id)}
    records: list[QsRecord] = []
    for _visit_id, group in groupby(rows, key=lambda row: row.visit_id):
        visit = list(group)
        head = visit[0]
        visit_fields = {
            "VISITNUM": head.number,
            "VISIT": _text(
                visit_label(head.protocol_code, head.protocol_version, head.visit_code)(language), language
            ),
        }
        if head.instrument_code is None:  # marked missed, no data: one NOT DONE record per item due
            for code in head.instruments.split():
                instrument = instruments.current(code)
                for item in instrument.items:
                    testcd, test, cat, interval = qs_test_fields(
                        code, instrument.version, item.code, language
                    )
                    records.append(
                        QsRecord(
                            {
                                **common,
                                "QSTESTCD": testcd,
                                "QSTEST": _text(test, language),
                                "QSCAT": cat,
                                "QSORRES": None,
                                "QSSTRESC": None,
                                "QSSTRESN": None,  # no result, never 0
                                "QSSTAT": NOT_DONE,
                                "QSREASND": head.missed_reason,
                                **visit_fields,
                                "QSDTC": None,
                                "QSDY": None,
                                "QSEVLINT": interval or None,
                            },
                            {"QSINSTV": instrument.version},
                        )
                    )
            continue
        for row in visit:
            testcd, test, cat, interval = qs_test_fields(
                row.instrument_code, row.instrument_version, row.item_code, language
            )
            label = option_label(
                row.instrument_code, row.instrument_version, row.item_code, row.value, language
            )
            supp = {
                "QSENTBY": ENTERED_BY[row.entered_by],
                "QSINSTV": row.instrument_version,
                "QSLANG": LANGUAGE_CODES[row.language],
            }
            if row.corrected:
                supp["QSCORR"] = "Y"
            records.append(
                QsRecord(
                    {
                        **common,
                        "QSTESTCD": testcd,
                        "QSTEST": _text(test, language),
                        "QSCAT": cat,
                        "QSORRES": _text(label, language),
                        "QSSTRESC": str(row.value),
                        "QSSTRESN": row.value,
                        "QSSTAT": None,
                        "QSREASND": None,
                        **visit_fields,
                        "QSDTC": iso_date(row.assessment_date),
                        "QSDY": sdtm_day(day0, row.assessment_date),
                        "QSEVLINT": interval or None,
                    },
                    supp,
                )
            )
    flag_baseline([r.values for r in records], day0, "QS")
    for sequence, record in enumerate(records, start=1):
        record.values["QSSEQ"] = sequence
    return records


def suppqs_rows(records: Iterable[QsRecord]) -> Iterator[dict[str, object]]:
    """One SUPPQS row per qualifier of each QS record, pointing at its parent by QSSEQ."""
    for record in records:
        for qnam, qval in record.supp.items():
            label, origin = SUPP_QUALIFIERS[qnam]
            yield {
                "STUDYID": record.values["STUDYID"],
                "RDOMAIN": "QS",
                "USUBJID": record.values["USUBJID"],
                "IDVAR": "QSSEQ",
                "IDVARVAL": str(record.values["QSSEQ"]),
                "QNAM": qnam,
                "QLABEL": label,
                "QVAL": qval,
                "QORIG": origin,
                "QEVAL": None,
            }
