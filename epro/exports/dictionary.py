"""The data dictionary: every column of every export and every code, in Korean and English."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import LazyString, force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from epro import instruments
from epro.clinical.characteristics import characteristics_for
from epro.clinical.measures import Measure, all_measure_sets
from epro.codes import ACTOR_TYPE_MEANINGS, ENTERED_BY_MEANINGS, LANGUAGE_WORDS, LANGUAGES
from epro.exports.baseline import CHILD_PUGH
from epro.exports.columns import Column, ExportOptions
from epro.exports.definitions import category, evaluation_interval, qs_test_code, qs_test_name
from epro.exports.long import ANSWER, CLINICAL
from epro.exports.sdtm import NOT_DONE
from epro.models import ProtocolVisit
from epro.schedule import Protocol, load_protocol
from epro.text import Text

if TYPE_CHECKING:
    from epro.exports.formats import ExportFormat

COLUMNS = (
    Column("export", _l("Export the row describes: long, sdtm-qs, baseline, audit or dictionary.")),
    Column("column", _l("Column name in that export.")),
    Column(
        "scope",
        _l("Where a code applies: the instrument and version (and item), or the protocol and version."),
    ),
    Column(
        "code", _l("A value that appears in the column; empty on the row that describes the column itself.")
    ),
    Column("description_ko", _l("Description in Korean.")),
    Column("description_en", _l("Description in English.")),
    Column(
        "calendar_date",
        _l("Y for a calendar date or time: left blank in an export with study days instead of dates."),
    ),
)


def _both(text: LazyString | Text | str) -> tuple[str, str]:
    """Text from a data file, a lazy string, or a message id (epro.codes' words), in Korean and English."""
    if isinstance(text, Text):
        return text.ko, text.en
    ko, en = (_in_language(text, language) for language in LANGUAGES)
    return ko, en


def _in_language(text: LazyString | str, language: str) -> str:
    with force_locale(language):
        return str(text) if isinstance(text, LazyString) else gettext(text)


def _visit_text(protocol: Protocol, number: int) -> tuple[str, str]:
    visit = protocol.visits[number - 1]
    texts = []
    for language in LANGUAGES:
        with force_locale(language):
            texts.append(
                gettext(
                    "%(label)s: visit %(number)s, planned on study day %(day)s, window %(before)s days before "
                    "to %(after)s days after",
                    label=visit.label(language),
                    number=visit.number,
                    day=visit.day,
                    before=visit.window_before,
                    after=visit.window_after,
                )
            )
    return texts[0], texts[1]


def _protocols(db: Session) -> list[Protocol]:
    """The configured protocol and every protocol version visits were scheduled from."""
    used = db.exec(select(ProtocolVisit.protocol_code, ProtocolVisit.protocol_version).distinct()).all()
    found = {(p.code, p.version): p for p in (load_protocol(code, version) for code, version in used)}
    configured = load_protocol(current_app.config["PROTOCOL"])
    found.setdefault((configured.code, configured.version), configured)
    return sorted(found.values(), key=lambda p: (p.code, p.version))


def _code(export: str, column: str, scope: str, code: object, text: LazyString | Text | str) -> list[object]:
    ko, en = _both(text)
    return [export, column, scope, code, ko, en, ""]


#: What every CSV file is, described on each export's row with an empty column name.
FILE = _l(
    "The file: CSV in UTF-8 without a byte order mark, so Python, pandas and R read the first column's name "
    'as it is. "For Excel" (--excel) adds a byte order mark so Excel shows Korean correctly on a double click.'
)


def rows(db: Session, options: ExportOptions, formats: Iterable[ExportFormat]) -> Iterator[list[object]]:
    for export in formats:
        yield [export.name, "", "", "", *_both(FILE), ""]
        for column in export.columns:
            ko, en = _both(column.description)
            yield [export.name, column.name, "", "", ko, en, "Y" if column.calendar else ""]

    for protocol in _protocols(db):
        scope = f"{protocol.code} {protocol.version}"
        for visit in protocol.visits:
            ko, en = _visit_text(protocol, visit.number)
            yield ["long", "visit_code", scope, visit.code, ko, en, ""]
            yield ["sdtm-qs", "VISITNUM", scope, visit.number, ko, en, ""]

    for language, name in LANGUAGE_WORDS.items():
        yield _code("long", "language_shown", "", language.value, name)
    for value, meaning in ENTERED_BY_MEANINGS.items():
        yield _code("long", "entered_by", "", value.value, meaning)
    yield _code("long", "corrected", "", "Y", _l("Corrected by staff after submission."))

    yield _code("sdtm-qs", "STUDYID", "", options.studyid, _l("This study."))
    yield _code("sdtm-qs", "DOMAIN", "", "QS", _l("Questionnaires."))
    yield _code("sdtm-qs", "QSSTAT", "", NOT_DONE, _l("Not done: the visit was marked missed."))
    yield _code(
        "sdtm-qs", "QSLOBXFL", "", "Y", _l("Baseline record: the last answer assessed on or before day 0.")
    )
    yield _code("sdtm-qs", "QSBLFL", "", "Y", _l("Baseline record."))

    for (code, version), instrument in sorted(instruments.all_instruments().items()):
        scope = f"{code} {version}"
        yield _code("long", "instrument_code", scope, code, instrument.name)
        yield _code("sdtm-qs", "QSCAT", scope, category(instrument), instrument.name)
        interval = evaluation_interval(instrument)
        if interval:
            yield _code("sdtm-qs", "QSEVLINT", scope, interval, instrument.recall)
        for item in instrument.items:
            yield _code("long", "item_code", scope, item.code, item.text)
            test = qs_test_code(instrument, item)
            yield _code(
                "sdtm-qs",
                "QSTESTCD",
                scope,
                test,
                Text(*(qs_test_name(instrument, item, lang) for lang in LANGUAGES)),
            )
            for option in item.options:
                item_scope = f"{scope} {item.code}"
                yield _code("long", "value", item_scope, option.value, option.label)
                yield _code("sdtm-qs", "QSSTRESN", item_scope, option.value, option.label)

    yield from _clinical_codes()
    for protocol in _protocols(db):
        yield from _baseline_codes(protocol)

    for actor_type, meaning in ACTOR_TYPE_MEANINGS.items():
        yield _code("audit", "actor_type", "", actor_type.value, meaning)


def _terminology(measure: Measure) -> tuple[str, str]:
    """Where a measure code comes from: CDISC controlled terminology, or the sponsor (this project)."""
    texts = []
    for language in LANGUAGES:
        with force_locale(language):
            if measure.cdisc:
                source = gettext(
                    "CDISC controlled terminology: %(domain)sTESTCD %(code)s (SDTM %(domain)s, test name %(test)s)",
                    domain=measure.domain,
                    code=measure.code,
                    test=measure.test,
                )
            else:
                source = gettext(
                    "Sponsor-defined code: no CDISC controlled terminology exists (test name %(test)s)",
                    test=measure.test,
                )
            unit = f" ({measure.unit})" if measure.unit else ""
            texts.append(f"{measure.label(language)}{unit}. {source}.")
    return texts[0], texts[1]


def _clinical_codes() -> Iterator[list[object]]:
    yield _code("long", "record_type", "", ANSWER, _l("A questionnaire answer."))
    yield _code("long", "record_type", "", CLINICAL, _l("A clinical value entered by a nurse at the visit."))
    yield _code("long", "out_of_range", "", "Y", _l("Outside the usual range; confirmed by the nurse."))
    for _key, measure_set in sorted(all_measure_sets().items()):
        scope = f"{measure_set.code} {measure_set.version}"
        yield _code("long", "instrument_code", scope, measure_set.code, measure_set.name)
        for measure in measure_set.measures:
            ko, en = _terminology(measure)
            yield ["long", "item_code", scope, measure.code, ko, en, ""]
            if measure.unit:
                yield _code("long", "unit", f"{scope} {measure.code}", measure.unit, measure.name)
            for option in measure.options:
                yield _code("long", "value", f"{scope} {measure.code}", option.code, option.label)


def _baseline_codes(protocol: Protocol) -> Iterator[list[object]]:
    scope = f"{protocol.code} {protocol.version}"
    characteristics = characteristics_for(protocol) if protocol.baseline_characteristics else ()
    for characteristic in characteristics:
        yield _code("baseline", "characteristic", scope, characteristic.code, characteristic.name)
        for option in characteristic.options:
            yield _code("baseline", "value", f"{scope} {characteristic.code}", option.code, option.label)
    if characteristics:
        yield _code(
            "baseline",
            "characteristic",
            scope,
            CHILD_PUGH,
            _l(
                "Child-Pugh score at baseline (5-15), derived from the characteristics above; class A 5-6, B 7-9, C 10-15."
            ),
        )
