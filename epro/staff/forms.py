"""Staff forms. Labels and messages are lazy so each request shows its own language."""

from __future__ import annotations

import re
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

REASON_MAX = 500


def _reason(required: bool = True):  # type: ignore[no-untyped-def]
    validators = [InputRequired(_l("Please give a reason."))] if required else [Optional()]
    return TextAreaField(_l("Reason"), validators=[*validators, Length(max=REASON_MAX)])


ROLE_CHOICES = [
    SelectChoice("nurse", _l("Nurse")),
    SelectChoice("investigator", _l("Investigator")),
    SelectChoice("admin", _l("Admin")),
]


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice("ko", "한국어"), SelectChoice("en", "English")]


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
    birth_year = IntegerField(
        _l("Year of birth"), validators=[InputRequired(_l("Enter the year of birth as four digits."))]
    )
    sex = RadioField(
        _l("Sex"),
        choices=[SelectChoice("M", _l("Male")), SelectChoice("F", _l("Female"))],
        validators=[InputRequired(_l("Choose the sex."))],
    )
    preferred_language = RadioField(
        _l("Preferred language"),
        choices=_language_choices(),
        validators=[InputRequired(_l("Choose a language."))],
    )

    def validate_study_id(self, field: StringField) -> None:
        field.data = (field.data or "").strip().upper()
        if not re.fullmatch(current_app.config["STUDY_ID_PATTERN"], field.data):
            raise ValidationError(
                _l(
                    "Use the study ID format, for example %(example)s.",
                    example=current_app.config["STUDY_ID_EXAMPLE"],
                )
            )

    def validate_birth_year(self, field: IntegerField) -> None:
        if field.data is None or not 1900 <= field.data <= date.today().year:
            raise ValidationError(_l("Enter a year between 1900 and this year."))


class PatientEditForm(PatientForm):
    reason = _reason()


class EnrolForm(FlaskForm):
    procedure_date = DateField(_l("Procedure date (day 0)"), validators=[InputRequired(_l("Enter a date."))])


class RescheduleForm(FlaskForm):
    new_date = DateField(_l("New date"), validators=[InputRequired(_l("Enter a date."))])
    reason = _reason(required=False)


class MissedForm(FlaskForm):
    reason = _reason()


class CorrectionForm(FlaskForm):
    value = IntegerField(
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
    reason = _reason()


class NewUserForm(FlaskForm):
    username = StringField(
        _l("User name"), validators=[InputRequired(_l("Enter a user name.")), Length(min=3, max=64)]
    )
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
