"""Forms for clinical values and baseline characteristics, built from the measure set; values parsed strictly.

Numbers are text fields read by epro.numbers (ASCII digits, the measure's decimals at most): WTForms'
DecimalField would take '1e2' or 'NaN'. Each value field has its confirmation box next to it, shown once
the value turned out to be outside the plausible range.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from epro.clinical.characteristics import Characteristic
from epro.clinical.measures import Measure
from epro.clinical.operations import NeedsConfirmation, OutsideHardRange, UnknownOption, check_value
from epro.form_choices import SelectChoice
from epro.numbers import InvalidNumber, parse_decimal

REASON_MAX = 500


def _range(measure: Measure, bounds: tuple[Decimal, Decimal]) -> str:
    """ "0.5–7.0 g/dL": the bounds with the measure's decimals, and its unit when it has one."""
    shown = f"{measure.format(bounds[0])}–{measure.format(bounds[1])}"
    return f"{shown} {measure.unit}" if measure.unit else shown


def hard_range_message(measure: Measure) -> str:
    assert measure.hard is not None
    return _(
        "%(measure)s must be between %(range)s. Nothing was saved.",
        measure=measure.label(_language()),
        range=_range(measure, measure.hard),
    )


def plausible_message(measure: Measure) -> str:
    assert measure.plausible is not None
    return _(
        "This value is outside the usual range (%(range)s). Check it; to save it, tick the confirmation. It "
        "will be flagged.",
        range=_range(measure, measure.plausible),
    )


def number_message(error: InvalidNumber, measure: Measure) -> str:
    if error.reason == "too_many_places":
        return _("Enter at most %(places)d decimal place(s).", places=measure.decimals)
    return _(
        "Enter a number with digits and a decimal point, such as %(example)s.", example=_example(measure)
    )


def _example(measure: Measure) -> str:
    assert measure.plausible is not None
    return measure.format((measure.plausible[0] + measure.plausible[1]) / 2)


def _language() -> str:
    return str(get_locale())


def value_field(measure: Measure, language: str, *, required: bool = False) -> Field:
    """A text box for a number (the unit beside it), or a list of the options for a category."""
    label = measure.label(language)
    validators = [InputRequired(_l("Enter a value."))] if required else [Optional()]
    if measure.is_number:
        return StringField(
            label,
            validators=[*validators, Length(max=32, message=_l("Enter at most 32 characters."))],
            render_kw={"inputmode": "decimal", "autocomplete": "off", "size": 10},
            description=measure.unit,
        )
    choices = [SelectChoice("", "—")] + [SelectChoice(o.code, o.label(language)) for o in measure.options]
    # The options are checked by check_value, with our own message.
    return SelectField(label, choices=choices, validators=validators, validate_choice=False)


def confirm_field() -> BooleanField:
    return BooleanField(_l("I have checked this value: save it, flagged as outside the usual range."))


def read_value(
    field: Field, measure: Measure, confirm: BooleanField | None
) -> tuple[Decimal | str | None, bool]:
    """The field's value (None when blank) and whether it is outside the plausible range; errors go onto
    the field (and mark the confirmation box as needed)."""
    raw = (field.data or "").strip()
    if not raw or field.errors:
        return None, False
    value: Decimal | str
    if measure.is_number:
        try:
            value = parse_decimal(raw, measure.decimals)
        except InvalidNumber as error:
            field.errors = [*field.errors, number_message(error, measure)]
            return None, False
        except ArithmeticError:  # more digits than a Decimal holds: far outside any range
            field.errors = [*field.errors, hard_range_message(measure)]
            return None, False
    else:
        value = raw
    try:
        outside = check_value(measure, value, confirmed=bool(confirm and confirm.data))
    except OutsideHardRange:
        field.errors = [*field.errors, hard_range_message(measure)]
        return None, False
    except NeedsConfirmation:
        field.errors = [*field.errors, plausible_message(measure)]
        if confirm is not None:
            confirm.flags.needed = True
        return None, False
    except UnknownOption:
        field.errors = [*field.errors, _("Choose one of the options.")]
        return None, False
    if outside and confirm is not None:
        confirm.flags.needed = True
    return value, outside


class EntryForm(FlaskForm):
    sample_date = DateField(
        _l("Sample date"),
        validators=[InputRequired(_l("Enter a date."))],
        description=_l("The day the sample was taken or the measurement made (YYYY-MM-DD)."),
    )


class CorrectionForm(FlaskForm):
    sample_date = DateField(_l("Sample date"), validators=[InputRequired(_l("Enter a date."))])
    confirm = confirm_field()
    reason = TextAreaField(
        _l("Reason for the correction"),
        validators=[InputRequired(_l("Please give a reason.")), Length(max=REASON_MAX)],
    )


class BaselineForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the change"), validators=[Optional(), Length(max=REASON_MAX)])


def entry_form(measures: tuple[Measure, ...], language: str) -> EntryForm:
    class VisitEntryForm(EntryForm):
        pass

    for measure in measures:
        setattr(VisitEntryForm, f"value_{measure.code}", value_field(measure, language))
        if measure.is_number:
            setattr(VisitEntryForm, f"confirm_{measure.code}", confirm_field())
    return VisitEntryForm()


def correction_form(measure: Measure, language: str) -> CorrectionForm:
    class ValueCorrectionForm(CorrectionForm):
        value = value_field(measure, language, required=True)

    return ValueCorrectionForm()


def baseline_form(characteristics: tuple[Characteristic, ...], language: str) -> BaselineForm:
    class PatientBaselineForm(BaselineForm):
        pass

    for characteristic in characteristics:
        if characteristic.measure is not None:
            field = value_field(characteristic.measure, language)
        else:
            choices = [SelectChoice("", "—")] + [
                SelectChoice(o.code, o.label(language)) for o in characteristic.options
            ]
            field = SelectField(
                characteristic.label(language),
                choices=choices,
                validators=[Optional()],
                validate_choice=False,
            )
        setattr(PatientBaselineForm, f"value_{characteristic.code}", field)
    return PatientBaselineForm()
