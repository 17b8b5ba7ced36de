"""Labels and codes taken from the instrument and protocol definitions, looked up once per export."""

from __future__ import annotations

import re
from functools import cache

from epro import instruments
from epro.instruments import Instrument, Item
from epro.sdtm.common import ascii_text

TEST_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


@cache
def option_label(code: str, version: str, item_code: str, value: int, language: str) -> str:
    item = next(i for i in instruments.get(code, version).items if i.code == item_code)
    option = item.option(value)
    return "" if option is None else option.label(language)


def qs_test_code(instrument: Instrument, item: Item) -> str:
    """The project's own SDTM QSTESTCD (no CDISC terminology exists for these measures).

    "EPRO" + instrument code for a one-item instrument (EPROPS, EPROWB, EPROQOL); "EP" + item code for an
    instrument with several items. At most 8 characters, a letter first, letters and digits only.
    """
    code = f"EPRO{instrument.code}" if len(instrument.items) == 1 else f"EP{item.code}"
    code = code.upper()
    if not TEST_CODE_RE.match(code):
        raise ValueError(f"{instrument.code} {item.code}: test code {code} is not a valid QSTESTCD")
    return code


def qs_test_name(instrument: Instrument, item: Item, language: str) -> str:
    """QSTEST: the instrument's name (and item code); in English at most 40 characters, as SDTM requires."""
    name = instrument.name(language)
    name = name if len(instrument.items) == 1 else f"{name}: {item.code}"
    if language == "en" and len(ascii_text(name)) > 40:
        raise ValueError(f"{instrument.code} {item.code}: QSTEST {name!r} is longer than 40 characters")
    return name


def category(instrument: Instrument) -> str:
    """QSCAT: the instrument's English name in capitals, the same for every version (the version goes to
    SUPPQS QSINSTV), e.g. "QUALITY OF LIFE"."""
    return ascii_text(instrument.name("en")).upper()


_RECALL_RE = re.compile(r"^(?:the )?(?:past|last) (?:(\d+) )?(day|week|month|year)s?$")


def evaluation_interval(instrument: Instrument) -> str:
    """QSEVLINT as an ISO 8601 duration counted back from the answer: "the past week" -> -P1W.

    "today" asks about the state at the time of answering, not about an interval, so it gets no duration
    (empty) rather than a made-up -PT24H; a recall wording we cannot read as a duration is left empty too.
    """
    match = _RECALL_RE.match(instrument.recall("en").strip().lower())
    if not match:
        return ""
    count, unit = match.group(1) or "1", match.group(2)
    return f"-P{count}{unit[0].upper()}"


@cache
def qs_test_fields(code: str, version: str, item_code: str, language: str) -> tuple[str, str, str, str]:
    """QSTESTCD, QSTEST, QSCAT and QSEVLINT of one item, worked out once per export."""
    instrument = instruments.get(code, version)
    item = next(i for i in instrument.items if i.code == item_code)
    return (
        qs_test_code(instrument, item),
        qs_test_name(instrument, item, language),
        category(instrument),
        evaluation_interval(instrument),
    )
