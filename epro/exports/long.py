"""The long format: one row per submitted answer."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, select

from epro.exports.columns import Column, ExportOptions, iso_date, stream, utc_iso
from epro.exports.definitions import option_label, visit_label
from epro.models import Patient, Response, Visit
from epro.schedule import study_day

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
    Column("instrument_code", _l("Instrument (questionnaire) code (see the codes below).")),
    Column("instrument_version", _l("Version of the instrument the answer was given on.")),
    Column("item_code", _l("Item (question) code within the instrument.")),
    Column(
        "value",
        _l(
            "Numeric code of the answer (see the option codes below). Never 0 for a missing answer: missing answers have no row."
        ),
    ),
    Column(
        "value_label",
        _l("Wording of the chosen answer in the export language, from the instrument definition."),
    ),
    Column("language_shown", _l("Language the item was shown in: ko = Korean, en = English.")),
    Column(
        "entered_by",
        _l("Who entered the answer: patient (on the tablet) or staff (on the patient's behalf)."),
    ),
    Column(
        "submitted_at_utc",
        _l("When the answers were submitted, in UTC (ISO 8601, ending in Z)."),
        calendar=True,
    ),
    Column(
        "corrected",
        _l(
            "Y when staff corrected the answer afterwards (the original is in the audit trail); otherwise empty."
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
)


def rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    query = (
        select(
            Patient.study_id,
            Patient.procedure_date,
            Patient.protocol_code,
            Patient.protocol_version,
            Visit.code,
            Visit.number,
            Visit.study_day,
            Visit.target_date,
            Visit.actual_date,
            Response.instrument_code,
            Response.instrument_version,
            Response.item_code,
            Response.value,
            Response.language,
            Response.entered_by,
            Response.submitted_at,
            col(Response.corrected_at).is_not(None).label("corrected"),
            Patient.withdrawn_on,
        )
        .join(Visit, col(Visit.id) == Response.visit_id)
        .join(Patient, col(Patient.id) == Visit.patient_id)
        .order_by(col(Patient.study_id), col(Visit.number), col(Response.id))
    )
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
        instrument_code,
        instrument_version,
        item_code,
        value,
        shown_in,
        entered_by,
        submitted_at,
        corrected,
        withdrawn_on,
    ) in stream(db, query):
        yield [
            study_id,
            visit_code,
            visit_number,
            visit_label(protocol_code, protocol_version, visit_code, language),
            iso_date(target_date),
            iso_date(actual_date),
            planned_day,
            "" if actual_date is None else study_day(day0, actual_date),
            instrument_code,
            instrument_version,
            item_code,
            value,
            option_label(instrument_code, instrument_version, item_code, value, language),
            shown_in,
            entered_by,
            utc_iso(submitted_at),
            "Y" if corrected else "",
            iso_date(withdrawn_on),
            "" if withdrawn_on is None or day0 is None else study_day(day0, withdrawn_on),
        ]
