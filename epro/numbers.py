"""Numbers typed by people, parsed strictly: ASCII digits only, no exponent, no NaN, at most the defined places.

`Decimal("1e2")`, `Decimal("sNaN")` and `int("٧٠")` all succeed in Python; a clinical value must not.
"""

from __future__ import annotations

import re
from decimal import Decimal

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


class InvalidNumber(ValueError):
    """The text is not a plain decimal number (or has more decimal places than allowed)."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{text!r}: {reason}")
        self.text = text
        self.reason = reason  # "not_a_number" or "too_many_places"


def parse_decimal(text: str, places: int) -> Decimal:
    """The value of `text` as a Decimal with at most `places` decimal places, or InvalidNumber."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        raise InvalidNumber(text, "not_a_number")
    value = Decimal(stripped)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # the pattern admits no NaN or infinity
    if -exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        raise InvalidNumber(text, "too_many_places")
    return value.quantize(Decimal(1).scaleb(-places)) if places else value.to_integral_value()


def parse_int(text: str) -> int:
    """A whole number in ASCII digits (so '٧٠' and '７０' are refused), or InvalidNumber."""
    return int(parse_decimal(text, 0))
