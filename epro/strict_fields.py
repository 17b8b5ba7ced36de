"""Form fields parsed strictly, each with a translated message when the text is not what it asks for.

Whole numbers are parsed by epro.numbers: ASCII digits only, no exponent, no NaN (WTForms' own
IntegerField takes '٧٠'; clinical values parse their decimals in epro.clinical.forms)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField

from epro.numbers import InvalidNumber, parse_int


def stripped(value: str | None) -> str | None:
    """A field filter: the text without surrounding spaces (spaces alone are no answer)."""
    return value.strip() if isinstance(value, str) else value


class StrictIntegerField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or valuelist[0] == "":
            self.data = None
            return
        try:
            self.data: int | None = parse_int(str(valuelist[0]))
        except InvalidNumber:
            self.data = None
            raise ValueError(str(_l("Enter a whole number using the digits 0-9."))) from None


class DayField(DateField):
    """A date as YYYY-MM-DD, with our own translated message when it is not one."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Enter the date as year-month-day, for example 2026-12-01."))) from error
