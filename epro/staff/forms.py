"""Staff forms. Labels and messages are lazy so each request shows its own language."""

from __future__ import annotations

import re
from datetime import date
from typing import Protocol, TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from epro.codes import LANGUAGE_ENDONYMS, ROLE_WORDS, SEX_WORDS
from epro.form_choices import SelectChoice
from epro.identifiers import InvalidStudyId, normalise_study_id
from epro.strict_fields import DayField, StrictIntegerField, stripped

REASON_MAX = 500
T = TypeVar("T")


class _Field(Protocol[T]):
    data: T | None


def entered(field: _Field[T]) -> T:
    """The value of a field that validated as required (InputRequired or DataRequired): never None then."""
    assert field.data is not None
    return field.data


def _reason(required: bool = True, label: str | None = None) -> TextAreaField:
    """A reason field; spaces alone are no reason."""
    validators = [DataRequired(_l("Please give a reason."))] if required else [Optional()]
    return TextAreaField(
        label or _l("Reason"), filters=[stripped], validators=[*validators, Length(max=REASON_MAX)]
    )


def _date(label: str) -> DayField:
    """A date typed or picked as YYYY-MM-DD; anything else is a clear error, never a crash."""
    return DayField(
        label,
        validators=[InputRequired(_l("Enter a date."))],
        render_kw={"min": "1900-01-01", "max": "2999-12-31"},
    )


ROLE_CHOICES = [SelectChoice(role.value, _l(word)) for role, word in ROLE_WORDS.items()]


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(language.value, name) for language, name in LANGUAGE_ENDONYMS.items()]


class SignInForm(FlaskForm):
    username = StringField(
        _l("User name"), validators=[InputRequired(_l("Enter your user name.")), Length(max=64)]
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(_l("Enter your password.")), Length(max=256)]
    )


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""


class PatientForm(FlaskForm):
    study_id = StringField(
        _l("Study ID"), validators=[InputRequired(_l("Enter the study ID.")), Length(max=32)]
    )
    birth_year = StrictIntegerField(
        _l("Year of birth"), validators=[InputRequired(_l("Enter the year of birth as four digits."))]
    )
    sex = RadioField(
        _l("Sex"),
        choices=[SelectChoice(sex.value, _l(word)) for sex, word in SEX_WORDS.items()],
        validators=[InputRequired(_l("Choose the sex."))],
    )
    preferred_language = RadioField(
        _l("Preferred language"),
        choices=_language_choices(),
        validators=[InputRequired(_l("Choose a language."))],
    )

    def validate_study_id(self, field: StringField) -> None:
        try:
            field.data = normalise_study_id(field.data or "", current_app.config["STUDY_ID_PATTERN"])
        except InvalidStudyId as error:
            field.data = (field.data or "").strip()
            if error.reason == "not_ascii":
                raise ValidationError(
                    _l(
                        "Use the study ID format, for example %(example)s: only the letters A-Z, "
                        "the digits 0-9 and '-'.",
                        example=current_app.config["STUDY_ID_EXAMPLE"],
                    )
                ) from None
            raise ValidationError(
                _l(
                    "Use the study ID format, for example %(example)s.",
                    example=current_app.config["STUDY_ID_EXAMPLE"],
                )
            ) from None

    def validate_birth_year(self, field: IntegerField) -> None:
        if field.data is None or not 1900 <= field.data <= date.today().year:
            raise ValidationError(_l("Enter a year between 1900 and this year."))


class PatientEditForm(PatientForm):
    reason = _reason()


class EnrolForm(FlaskForm):
    procedure_date = _date(_l("Procedure date (day 0)"))
    #: Shown once day 0 is far from today: the nurse confirms it is not a typing slip.
    confirm_far = BooleanField(_l("Yes, this procedure date is correct"))


class RescheduleForm(FlaskForm):
    new_date = _date(_l("New date"))
    reason = _reason(required=False)
    past_next_visit = BooleanField(_l("Yes, move it on or after the next visit"))


class DayZeroCorrectionForm(FlaskForm):
    procedure_date = _date(_l("Correct procedure date (day 0)"))
    reason = _reason(label=_l("Reason for the correction"))
    confirm_far = BooleanField(_l("Yes, this procedure date is correct"))
    #: Set on the preview page: the nurse has seen which visits change and confirms.
    confirmed = BooleanField()


class WithdrawalForm(FlaskForm):
    withdrawn_on = _date(_l("Date of withdrawal"))
    reason = _reason(label=_l("Reason for withdrawal"))


class MissedForm(FlaskForm):
    reason = _reason()


class CorrectionForm(FlaskForm):
    value = StrictIntegerField(
        _l("Corrected value"), validators=[InputRequired(_l("Choose the corrected answer."))]
    )
    reason = _reason()


class StaffEntryForm(FlaskForm):
    """The item fields are added per visit (see staff.visit_views); this holds what every entry needs."""

    language = RadioField(
        _l("Language the questions were read in"),
        choices=_language_choices(),
        validators=[InputRequired(_l("Choose a language."))],
    )
    assessment_date = DateField(
        _l("Assessment date"),
        description=_l("The day the patient actually answered (the paper form's date, or the call's)."),
        validators=[InputRequired(_l("Enter a date."))],
    )
    reason = _reason()


def _full_name() -> StringField:
    return StringField(
        _l("Printed name"),
        description=_l("The person's full name, shown with their electronic signatures."),
        validators=[Optional(), Length(max=128)],
        filters=[lambda value: (value or "").strip() or None],
    )


class NewUserForm(FlaskForm):
    username = StringField(
        _l("User name"), validators=[InputRequired(_l("Enter a user name.")), Length(min=3, max=64)]
    )
    full_name = _full_name()
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    preferred_language = SelectField(_l("Preferred language"), choices=_language_choices())
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Enter a password.")),
            Length(min=10, max=256, message=_l("Use at least 10 characters.")),
        ],
    )

    def validate_username(self, field: StringField) -> None:
        if not re.fullmatch(r"[a-z0-9._-]{3,64}", field.data or ""):
            raise ValidationError(_l("Use lower-case letters, digits, dots, dashes or underscores."))


class FullNameForm(FlaskForm):
    full_name = _full_name()


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(_l("Enter a password.")),
            Length(min=10, max=256, message=_l("Use at least 10 characters.")),
        ],
    )
