"""Form fields for typed numbers, parsed by epro.numbers: ASCII digits only, no exponent, no NaN, at most
the defined decimal places. WTForms' own DecimalField and IntegerField take '1e2', 'sNaN' and '٧٠'."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField

from epro.numbers import InvalidNumber, parse_decimal, parse_int


def _message(error: InvalidNumber, places: int) -> str:
    if error.reason == "too_many_places":
        return str(_l("Enter at most %(places)s digit(s) after the decimal point.", places=places))
    if places:
        return str(_l("Enter a number using the digits 0-9 and one decimal point, for example 62.5."))
    return str(_l("Enter a whole number using the digits 0-9."))


class StrictDecimalField(DecimalField):
    def __init__(self, *args: Any, places: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, places=places, **kwargs)
        self.strict_places = places

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or valuelist[0] == "":
            self.data = None
            return
        try:
            self.data: Decimal | None = parse_decimal(str(valuelist[0]), self.strict_places)
        except InvalidNumber as error:
            self.data = None
            raise ValueError(_message(error, self.strict_places)) from None


class StrictIntegerField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or valuelist[0] == "":
            self.data = None
            return
        try:
            self.data: int | None = parse_int(str(valuelist[0]))
        except InvalidNumber as error:
            self.data = None
            raise ValueError(_message(error, 0)) from None
