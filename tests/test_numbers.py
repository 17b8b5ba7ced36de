"""Strict parsing of typed numbers: what Python's Decimal and int accept but a clinical value must not."""

from decimal import Decimal

import pytest

from epro.numbers import InvalidNumber, parse_decimal, parse_int


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [
        ("70", 1, Decimal("70.0")),
        (" 70.5 ", 1, Decimal("70.5")),
        ("70.50", 1, Decimal("70.5")),
        ("-3", 0, -3),
    ],
)
def test_plain_decimals_are_read(text: str, places: int, expected: Decimal) -> None:
    assert parse_decimal(text, places) == expected


@pytest.mark.parametrize(
    "text", ["1e2", "sNaN", "NaN", "inf", "٧٠", "７０", "𝟕𝟎", "", "7 0", "0x10", "1_000"]
)
def test_anything_but_ascii_decimal_is_refused(text: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_decimal(text, 1)
    assert caught.value.reason == "not_a_number"


def test_more_places_than_defined_are_refused() -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_decimal("70.05", 1)
    assert caught.value.reason == "too_many_places"


def test_whole_numbers() -> None:
    assert parse_int("70") == 70
    with pytest.raises(InvalidNumber):
        parse_int("٧٠")
    with pytest.raises(InvalidNumber):
        parse_int("70.5")
