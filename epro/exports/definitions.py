"""Labels and codes taken from the instrument and protocol definitions, looked up once per export."""

from __future__ import annotations

import re
from functools import cache

from flask import current_app
from flask_babel import force_locale, gettext
from sqlmodel import Session, select

from epro import instruments
from epro.codes import LANGUAGES
from epro.instruments import Instrument, Item
from epro.models import ProtocolVisit
from epro.schedule import Protocol, load_protocol
from epro.schedule import ProtocolVisit as Visit
from epro.sdtm.common import ascii_text
from epro.text import Text

TEST_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


@cache
def option_label(code: str, version: str, item_code: str, value: int, language: str) -> str:
    item = next(i for i in instruments.get(code, version).items if i.code == item_code)
    option = item.option(value)
    return "" if option is None else option.label(language)


def protocols_in_use(db: Session) -> list[Protocol]:
    """The configured protocol and every protocol version visits were scheduled from."""
    used = db.exec(select(ProtocolVisit.protocol_code, ProtocolVisit.protocol_version).distinct()).all()
    found = {(p.code, p.version): p for p in (load_protocol(code, version) for code, version in used)}
    configured = load_protocol(current_app.config["PROTOCOL"])
    found.setdefault((configured.code, configured.version), configured)
    return sorted(found.values(), key=lambda p: (p.code, p.version))


def visit_meaning(visit: Visit) -> Text:
    """What a visit code means, for the data dictionary: its label, number, planned day and window."""
    texts = []
    for language in LANGUAGES:
        with force_locale(language):
            texts.append(
                gettext(
                    "%(label)s: visit %(number)s, planned on study day %(day)s, window %(before)s days before "
                    "to %(after)s days after",
                    label=visit.label(language),
                    number=visit.number,
                    day=visit.day,
                    before=visit.window_before,
                    after=visit.window_after,
                )
            )
    return Text(*texts)


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
