"""Baseline characteristics: one row per patient and characteristic (aetiology, Child-Pugh inputs at
enrolment), as the protocol file defines them, with the Child-Pugh score derived from them."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from epro.clinical.characteristics import Characteristic, baseline_child_pugh, characteristics_for
from epro.exports.columns import Code, Column, ExportOptions, stream, utc_iso
from epro.exports.definitions import protocols_in_use
from epro.models import Patient, PatientCharacteristic
from epro.schedule import load_protocol

CHILD_PUGH = "CPSCORE"

COLUMNS = (
    Column("study_id", _l("Pseudonymous study ID of the patient.")),
    Column(
        "characteristic",
        _l(
            "Characteristic code from the protocol: AETIOL, or a measure code (see the codes below); CPSCORE is the Child-Pugh score derived from the others."
        ),
    ),
    Column(
        "value",
        _l("Recorded value: a code (see the codes below) or a number in the unit of the unit column."),
    ),
    Column(
        "value_label",
        _l("Wording of a coded value in the export language; for CPSCORE, the class A, B or C."),
    ),
    Column("unit", _l("Unit of a numeric value; empty otherwise.")),
    Column(
        "entered_at_utc",
        _l("When the value was first entered, in UTC (ISO 8601, ending in Z)."),
        calendar=True,
    ),
    Column(
        "changed",
        _l("Y when the value was changed after its first entry (with a reason, in the audit trail)."),
    ),
)


@cache
def _characteristics(protocol_code: str, protocol_version: str | None) -> dict[str, Characteristic]:
    return {c.code: c for c in characteristics_for(load_protocol(protocol_code, protocol_version))}


def rows(db: Session, options: ExportOptions) -> Iterator[list[object]]:
    query = (
        core_select(
            col(Patient.study_id),
            col(Patient.protocol_code),
            col(Patient.protocol_version),
            col(PatientCharacteristic.code),
            col(PatientCharacteristic.value),
            col(PatientCharacteristic.entered_at),
            col(PatientCharacteristic.changed_at).is_not(None),
        )
        .join(Patient, col(Patient.id) == PatientCharacteristic.patient_id)
        .where(col(Patient.protocol_code).is_not(None))
        .order_by(col(Patient.study_id), col(PatientCharacteristic.id))
    )
    current: str | None = None
    values: dict[str, str] = {}
    protocol: tuple[str, str | None] | None = None
    for study_id, protocol_code, protocol_version, code, value, entered_at, changed in stream(db, query):
        assert protocol_code is not None  # enrolled patients only
        if study_id != current:
            if current is not None and protocol is not None:
                yield from _score(current, values, protocol)
            current, values, protocol = study_id, {}, (protocol_code, protocol_version)
        characteristic = _characteristics(protocol_code, protocol_version).get(code)
        values[code] = value
        yield [
            study_id,
            code,
            value,
            _label(characteristic, value, options.language),
            "" if characteristic is None else characteristic.unit,
            utc_iso(entered_at),
            "Y" if changed else "",
        ]
    if current is not None and protocol is not None:
        yield from _score(current, values, protocol)


def _label(characteristic: Characteristic | None, value: str, language: str) -> str:
    if characteristic is None or characteristic.kind == "number":
        return ""
    return characteristic.format(value, language)


def _score(study_id: str, values: dict[str, str], protocol: tuple[str, str | None]) -> Iterator[list[object]]:
    score = baseline_child_pugh(values, load_protocol(*protocol))
    if score is not None:
        yield [study_id, CHILD_PUGH, score.score, score.grade, "", "", ""]


def codes(db: Session, options: ExportOptions) -> Iterator[Code]:
    """Each protocol's characteristics with their options, and the derived Child-Pugh score."""
    for protocol in protocols_in_use(db):
        scope = f"{protocol.code} {protocol.version}"
        characteristics = characteristics_for(protocol) if protocol.baseline_characteristics else ()
        for characteristic in characteristics:
            yield Code("characteristic", scope, characteristic.code, characteristic.name)
            for option in characteristic.options:
                yield Code("value", f"{scope} {characteristic.code}", option.code, option.label)
        if characteristics:
            yield Code(
                "characteristic",
                scope,
                CHILD_PUGH,
                _l(
                    "Child-Pugh score at baseline (5-15), derived from the characteristics above; class A 5-6, B 7-9, C 10-15."
                ),
            )
