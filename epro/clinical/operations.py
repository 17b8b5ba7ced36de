"""Entering and correcting clinical values and baseline characteristics: the rules, audited, flushed; the view
commits. Every refusal is a named exception the views turn into a translated message; nothing is saved then.

The rules are those of answers: a first value needs no reason; a changed value does, and the original stays
in the audit trail. A number outside the measure's hard range is refused; one outside the plausible range
needs the nurse's explicit confirmation and is flagged (out_of_range).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from epro.audit import Actor, record
from epro.clinical.characteristics import Characteristic
from epro.clinical.measures import Measure, MeasureSet
from epro.models import ClinicalValue, Patient, PatientCharacteristic, Visit, utcnow


class ClinicalEntryError(Exception):
    """Base of every refusal; nothing was saved."""


class OutsideHardRange(ClinicalEntryError):
    def __init__(self, measure: Measure) -> None:
        super().__init__(measure.code)
        self.measure = measure


class NeedsConfirmation(ClinicalEntryError):
    """Outside the plausible range and not confirmed: ask the nurse to check and confirm."""

    def __init__(self, measure: Measure) -> None:
        super().__init__(measure.code)
        self.measure = measure


class UnknownOption(ClinicalEntryError):
    """A category value that is not one of the measure's options."""


class NotCollectedHere(ClinicalEntryError):
    """The measure set does not collect this measure at this visit."""


class SampleDateInFuture(ClinicalEntryError):
    pass


class ReasonRequired(ClinicalEntryError):
    """Changing a recorded value needs a reason."""


class AlreadyRecorded(ClinicalEntryError):
    """A value exists already: correct it (with a reason) instead."""


class NothingChanged(ClinicalEntryError):
    pass


Value = Decimal | str


def check_value(measure: Measure, value: Value, *, confirmed: bool) -> bool:
    """Whether the value is outside the plausible range (to flag); raises when it cannot be saved."""
    if not measure.is_number:
        if not isinstance(value, str) or measure.option(value) is None:
            raise UnknownOption(measure.code)
        return False
    if not isinstance(value, Decimal) or not value.is_finite():
        raise OutsideHardRange(measure)
    assert measure.hard is not None and measure.plausible is not None
    if not (measure.hard[0] <= value <= measure.hard[1]):
        raise OutsideHardRange(measure)
    outside = not (measure.plausible[0] <= value <= measure.plausible[1])
    if outside and not confirmed:
        raise NeedsConfirmation(measure)
    return outside


def _stored(measure: Measure, value: Value) -> tuple[Decimal | None, str | None]:
    if measure.is_number:
        assert isinstance(value, Decimal)
        return value.quantize(Decimal(1).scaleb(-measure.decimals)), None
    return None, str(value)


def _text(measure: Measure, number: Decimal | None, code: str | None) -> str:
    """How a value reads in the audit trail: the number with the measure's decimals, or the option code."""
    return measure.format(number) if code is None else code


def enter_value(
    db: Session,
    actor: Actor,
    visit: Visit,
    measure_set: MeasureSet,
    measure: Measure,
    value: Value,
    sample_date: date,
    *,
    confirmed: bool,
    today: date,
) -> ClinicalValue:
    """The first value of a measure at a visit."""
    if not measure.collected_at(visit.code):
        raise NotCollectedHere(measure.code)
    if sample_date > today:
        raise SampleDateInFuture(measure.code)
    out_of_range = check_value(measure, value, confirmed=confirmed)
    if db.exec(
        select(ClinicalValue.id).where(
            ClinicalValue.visit_id == visit.id, ClinicalValue.measure_code == measure.code
        )
    ).first():
        raise AlreadyRecorded(measure.code)
    number, code = _stored(measure, value)
    assert visit.id is not None
    row = ClinicalValue(
        visit_id=visit.id,
        measure_code=measure.code,
        measure_set=measure_set.key,
        value_number=number,
        value_code=code,
        unit=measure.unit,
        sample_date=sample_date,
        out_of_range=out_of_range,
        entered_by_id=actor.id if actor.type == "staff" else None,
    )
    db.add(row)
    db.flush()
    record(
        db,
        actor,
        "clinical.enter",
        "clinical_value",
        row.id,
        field=measure.code,
        new=_text(measure, number, code),
        reason="out of plausible range, confirmed" if out_of_range else None,
    )
    if sample_date != (visit.actual_date or visit.appointment_date):
        record(
            db,
            actor,
            "clinical.enter",
            "clinical_value",
            row.id,
            field=f"{measure.code}.sample_date",
            new=sample_date.isoformat(),
        )
    return row


def correct_value(
    db: Session,
    actor: Actor,
    row: ClinicalValue,
    measure: Measure,
    value: Value,
    sample_date: date,
    reason: str,
    *,
    confirmed: bool,
    today: date,
) -> None:
    """Change a recorded value or its sample date; the original stays in the audit trail."""
    reason = reason.strip()
    if sample_date > today:
        raise SampleDateInFuture(measure.code)
    out_of_range = check_value(measure, value, confirmed=confirmed)
    number, code = _stored(measure, value)
    old_number = None if row.value_number is None else Decimal(row.value_number)
    value_changed = (number, code) != (old_number, row.value_code)
    date_changed = sample_date != row.sample_date
    if not value_changed and not date_changed:
        raise NothingChanged(measure.code)
    if not reason:
        raise ReasonRequired(measure.code)
    if value_changed:
        record(
            db,
            actor,
            "clinical.correct",
            "clinical_value",
            row.id,
            field=measure.code,
            old=_text(measure, old_number, row.value_code),
            new=_text(measure, number, code),
            reason=reason,
        )
    if date_changed:
        record(
            db,
            actor,
            "clinical.correct",
            "clinical_value",
            row.id,
            field=f"{measure.code}.sample_date",
            old=row.sample_date.isoformat(),
            new=sample_date.isoformat(),
            reason=reason,
        )
    row.value_number, row.value_code, row.sample_date = number, code, sample_date
    row.out_of_range = out_of_range
    row.corrected_at, row.correction_reason = utcnow(), reason
    db.add(row)
    db.flush()


def characteristic_text(characteristic: Characteristic, value: Value) -> str:
    """The stored text of a characteristic's value, after the measure's (or the option list's) rules."""
    measure = characteristic.measure
    if measure is not None:
        check_value(measure, value, confirmed=True)
        number, code = _stored(measure, value)
        return _text(measure, number, code)
    if not isinstance(value, str) or not any(o.code == value for o in characteristic.options):
        raise UnknownOption(characteristic.code)
    return value


def set_characteristic(
    db: Session,
    actor: Actor,
    patient: Patient,
    characteristic: Characteristic,
    value: Value,
    reason: str | None,
    *,
    existing: PatientCharacteristic | None,
) -> PatientCharacteristic | None:
    """Enter a baseline characteristic once, or change it with a reason; None when nothing changed."""
    text = characteristic_text(characteristic, value)
    if existing is None:
        assert patient.id is not None and actor.id is not None, "a saved patient; a staff member enters it"
        row = PatientCharacteristic(
            patient_id=patient.id,
            code=characteristic.code,
            value=text,
            entered_by_id=actor.id,
        )
        db.add(row)
        db.flush()
        record(
            db,
            actor,
            "characteristic.enter",
            "patient_characteristic",
            row.id,
            field=characteristic.code,
            new=text,
        )
        return row
    if existing.value == text:
        return None
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(characteristic.code)
    record(
        db,
        actor,
        "characteristic.change",
        "patient_characteristic",
        existing.id,
        field=characteristic.code,
        old=existing.value,
        new=text,
        reason=reason,
    )
    existing.value, existing.changed_at, existing.change_reason = text, utcnow(), reason
    db.add(existing)
    db.flush()
    return existing
