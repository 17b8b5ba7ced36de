"""Form fields for typed whole numbers, parsed by epro.numbers: ASCII digits only, no exponent, no NaN.
WTForms' own IntegerField takes '٧٠' (clinical values parse their decimals in epro.clinical.forms)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

from epro.numbers import InvalidNumber, parse_int


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
