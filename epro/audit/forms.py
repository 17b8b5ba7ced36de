"""The audit trail's filters: a GET form read from the query string, each unusable filter named with a
translated message instead of guessed at."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, ValidationError
from wtforms.validators import Length, NumberRange, Optional, Regexp

from epro.audit.trail import Filters
from epro.strict_fields import DayField, StrictIntegerField, stripped

#: An action or kind-of-record code as the trail stores it ("response.submit", "staff_user").
CODE = re.compile(r"^[a-z_]{1,32}(\.[a-z_]{1,32})?$")
ORDINARY_TEXT = re.compile(r"\A[^\x00-\x1f\x7f]*\Z")
MAX_PAGE = 100_000


class TrailFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only reads, and its links must work without a token

    action = StringField(
        filters=[stripped],
        validators=[Optional(), Regexp(CODE, message=_l("Choose an action from the list."))],
    )
    entity = StringField(
        filters=[stripped],
        validators=[Optional(), Regexp(CODE, message=_l("Choose a kind of record from the list."))],
    )
    actor = StringField(
        filters=[stripped],
        validators=[
            Length(max=64, message=_l("Enter at most 64 ordinary characters.")),
            Regexp(ORDINARY_TEXT, message=_l("Enter at most 64 ordinary characters.")),
        ],
    )
    date_from = DayField(validators=[Optional()])
    date_to = DayField(validators=[Optional()])
    page = StrictIntegerField(
        validators=[Optional(), NumberRange(1, MAX_PAGE, message=_l("This page number does not exist."))]
    )

    def validate_date_to(self, field: Field) -> None:
        if self.date_from.data and field.data and self.date_from.data > field.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> Filters:
        """The filters the form holds (once it validated)."""
        return Filters(
            action=self.action.data or "",
            entity=self.entity.data or "",
            actor=self.actor.data or "",
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            page=self.page.data or 1,
        )

    def messages(self) -> dict[str, str]:
        """Field name -> the first message, for each filter that could not be used."""
        return {name: str(errors[0]) for name, errors in self.errors.items() if name and errors}
