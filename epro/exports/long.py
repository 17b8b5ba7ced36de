"""The long format: one row per submitted answer and one per clinical value (laboratory value, weight, dose,
grade), merged in study ID and visit order (answers first within a visit)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from epro import instruments
from epro.clinical.measures import Measure, all_measure_sets, load_measure_set
from epro.clinical.queries import StudyValue, study_values
from epro.codes import ENTERED_BY_MEANINGS, LANGUAGE_WORDS, LANGUAGES
from epro.exports.columns import Code, Column, ExportOptions, iso_date, stream, utc_iso
from epro.exports.definitions import option_label, protocols_in_use, visit_meaning
from epro.models import Patient, Response, Visit
from epro.schedule import study_day
from epro.text import Text
from epro.visit_labels import visit_label

ANSWER, CLINICAL = "answer", "clinical"

COLUMNS = (
    Column("study_id", _l("Pseudonymous study ID of the patient.")),
    Column("visit_code", _l("Visit code from the protocol (see the codes below).")),
    Column("visit_number", _l("Visit number: the visit's order in the protocol, from 1.")),
    Column("visit_label", _l("Visit name in the export language.")),
    Column("target_date", _l("Target date of the visit (YYYY-MM-DD)."), calendar=True),
    Column("actual_date", _l("Date the visit took place (YYYY-MM-DD)."), calendar=True),
    Column("planned_study_day", _l("Planned study day of the visit (day 0 = procedure date).")),
    Column(
        "study_day",
        _l(
            "Study day of the actual date: days from the procedure date, which is day 0 (the day before is -1)."
        ),
    ),
    Column(
        "instrument_code",
        _l(
            "Instrument (questionnaire) code; on clinical rows, the clinical measure set code (see the codes below)."
        ),
    ),
    Column(
        "instrument_version", _l("Version of the instrument (or of the measure set) the value belongs to.")
    ),
    Column(
        "item_code",
        _l(
            "Item (question) code within the instrument; on clinical rows, the measure code: CDISC LBTESTCD or VSTESTCD where one exists, a sponsor code otherwise (see the codes below)."
        ),
    ),
    Column(
        "value",
        _l(
            "Numeric code of the answer (see the option codes below); on clinical rows, the value in the unit of the unit column, or a grade's code. Never 0 for a missing value: missing values have no row."
        ),
    ),
    Column(
        "value_label",
        _l(
            "Wording of the chosen answer (or of a clinical grade) in the export language, from the definition; empty for clinical numbers."
        ),
    ),
    Column(
        "language_shown",
        _l("Language the item was shown in: ko = Korean, en = English. Empty on clinical rows."),
    ),
    Column(
        "entered_by",
        _l(
            "Who entered the value: patient (on the tablet) or staff (on the patient's behalf, and every clinical value)."
        ),
    ),
    Column(
        "submitted_at_utc",
        _l(
            "When the answers were submitted, or the clinical value first entered, in UTC (ISO 8601, ending in Z)."
        ),
        calendar=True,
    ),
    Column(
        "corrected",
        _l(
            "Y when staff corrected the value afterwards (the original is in the audit trail); otherwise empty."
        ),
    ),
    Column(
        "record_type",
        _l("What the row holds: answer (a questionnaire answer) or clinical (a clinical value)."),
    ),
    Column(
        "unit", _l("Unit of a clinical value, as shown to the nurse when it was entered; empty otherwise.")
    ),
    Column(
        "sample_date",
        _l("Date the sample was taken or the clinical measurement made (YYYY-MM-DD); empty on answers."),
        calendar=True,
    ),
    Column(
        "sample_study_day",
        _l("Study day of the sample date (day 0 = procedure date, the day before is -1); empty on answers."),
    ),
    Column(
        "out_of_range",
        _l(
            "Y when a clinical value lies outside the measure's usual (plausible) range and the nurse confirmed it; otherwise empty."
        ),
    ),
    Column(
        "withdrawn_on",
        _l("Date the patient was withdrawn from the study (YYYY-MM-DD); empty while in the study."),
        calendar=True,
    ),
    Column(
        "withdrawal_study_day",
        _l("Study day of the withdrawal (day 0 = procedure date); empty while in the study."),
    ),
    Column(
        "assessment_date",
        _l(
            "Date the patient actually answered (YYYY-MM-DD): the tablet's clinic date, or the date a nurse gave when entering a paper form or a phone answer on the patient's behalf. Empty on clinical rows (see sample_date)."
        ),
        calendar=True,
    ),
    Column(
        "assessment_study_day",
        _l(
            "Study day of the assessment date (day 0 = procedure date, the day before is -1); empty on clinical rows."
        ),
    ),
)


def _answers(db: Session, options: ExportOptions) -> Iterator[tuple[tuple[str, int, int, int], list[object]]]:
    query = (
        core_select(
            col(Patient.study_id),
            col(Patient.procedure_date),
            col(Patient.protocol_code),
            col(Patient.protocol_version),
            col(Visit.code),
            col(Visit.number),
            col(Visit.study_day),
            col(Visit.target_date),
            col(Visit.actual_date),
            col(Response.id),
            col(Response.instrument_code),
            col(Response.instrument_version),
            col(Response.item_code),
            col(Response.value),
            col(Response.language),
            col(Response.entered_by),
            col(Response.submitted_at),
            col(Response.corrected_at).is_not(None).label("corrected"),
            col(Patient.withdrawn_on),
            col(Response.assessment_date),
        )
        .join(Visit, col(Visit.id) == Response.visit_id)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .order_by(col(Patient.study_id), col(Visit.number), col(Response.id))
    )
    if options.patient_id is not None:
        query = query.where(col(Patient.id) == options.patient_id)
    language = options.language
    for (
        study_id,
        day0,
        protocol_code,
        protocol_version,
        visit_code,
        visit_number,
        planned_day,
        target_date,
        actual_date,
        response_id,
        instrument_code,
        instrument_version,
        item_code,
        value,
        shown_in,
        entered_by,
        submitted_at,
        corrected,
        withdrawn_on,
        assessment_date,
    ) in stream(db, query):
        assert response_id is not None  # a stored row's id
        yield (
            (study_id, visit_number, 0, response_id),
            [
                study_id,
                visit_code,
                visit_number,
                visit_label(protocol_code, protocol_version, visit_code)(language),
                iso_date(target_date),
                iso_date(actual_date),
                planned_day,
                "" if actual_date is None or day0 is None else study_day(day0, actual_date),
                instrument_code,
                instrument_version,
                item_code,
                value,
                option_label(instrument_code, instrument_version, item_code, value, language),
                shown_in,
                entered_by,
                utc_iso(submitted_at),
                "Y" if corrected else "",
                ANSWER,
                "",
                "",
                "",
                "",
                iso_date(withdrawn_on),
                "" if withdrawn_on is None or day0 is None else study_day(day0, withdrawn_on),
                iso_date(assessment_date),
                "" if day0 is None else study_day(day0, assessment_date),
            ],
        )


def _clinical_row(value: StudyValue, language: str) -> list[object]:
    measure_set = load_measure_set(value.measure_set)
    measure = measure_set.get(value.measure_code)
    number = value.value_number is not None
    day0 = value.procedure_date
    return [
        value.study_id,
        value.visit_code,
        value.visit_number,
        visit_label(value.protocol_code, value.protocol_version, value.visit_code)(language),
        iso_date(value.target_date),
        iso_date(value.actual_date),
        value.planned_study_day,
        "" if value.actual_date is None or day0 is None else study_day(day0, value.actual_date),
        measure_set.code,
        measure_set.version,
        value.measure_code,
        measure.format(value.value_number) if number else value.value_code,
        "" if number else measure.format(value.value_code, language),
        "",
        "staff",
        utc_iso(value.entered_at),
        "Y" if value.corrected else "",
        CLINICAL,
        value.unit,
        iso_date(value.sample_date),
        "" if day0 is None else study_day(day0, value.sample_date),
        "Y" if value.out_of_range else "",
        iso_date(value.withdrawn_on),
        "" if value.withdrawn_on is None or day0 is None else study_day(day0, value.withdrawn_on),
        "",
        "",
    ]


def _clinical(
    db: Session, options: ExportOptions
) -> Iterator[tuple[tuple[str, int, int, int], list[object]]]:
    for value in study_values(db, options.patient_id):  # one patient's copy reads only that patient's values
        yield (value.study_id, value.visit_number, 1, value.value_id), _clinical_row(value, options.language)


def rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    """Both streams are read in the same order and merged, so memory stays at one batch of each."""
    for _key, row in heapq.merge(_answers(db, options), _clinical(db, options), key=lambda pair: pair[0]):
        yield row


def codes(db: Session, options: ExportOptions) -> Iterator[Code]:
    """Every code the long format writes: visits, languages, who entered, instruments, items and options,
    and the clinical measure sets with their measures, units and grades."""
    for protocol in protocols_in_use(db):
        for visit in protocol.visits:
            yield Code("visit_code", f"{protocol.code} {protocol.version}", visit.code, visit_meaning(visit))
    for language, word in LANGUAGE_WORDS.items():
        yield Code("language_shown", "", language.value, word)
    for entered_by, meaning in ENTERED_BY_MEANINGS.items():
        yield Code("entered_by", "", entered_by.value, meaning)
    yield Code("corrected", "", "Y", _l("Corrected by staff after submission."))
    for (code, version), instrument in sorted(instruments.all_instruments().items()):
        scope = f"{code} {version}"
        yield Code("instrument_code", scope, code, instrument.name)
        for item in instrument.items:
            yield Code("item_code", scope, item.code, item.text)
            for option in item.options:
                yield Code("value", f"{scope} {item.code}", option.value, option.label)
    yield Code("record_type", "", ANSWER, _l("A questionnaire answer."))
    yield Code("record_type", "", CLINICAL, _l("A clinical value entered by a nurse at the visit."))
    yield Code("out_of_range", "", "Y", _l("Outside the usual range; confirmed by the nurse."))
    for _key, measure_set in sorted(all_measure_sets().items()):
        scope = f"{measure_set.code} {measure_set.version}"
        yield Code("instrument_code", scope, measure_set.code, measure_set.name)
        for measure in measure_set.measures:
            yield Code("item_code", scope, measure.code, _terminology(measure))
            if measure.unit:
                yield Code("unit", f"{scope} {measure.code}", measure.unit, measure.name)
            for measure_option in measure.options:
                yield Code("value", f"{scope} {measure.code}", measure_option.code, measure_option.label)


def _terminology(measure: Measure) -> Text:
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
    return Text(*texts)
