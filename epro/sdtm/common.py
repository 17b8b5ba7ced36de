"""What every SDTM domain shares: study facts from the configuration, study days, ASCII text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from flask import current_app

from epro.baseline import baseline_key
from epro.schedule import study_day

#: Typographic characters in the English definitions, spelt the ASCII way (SDTM text is ASCII).
_ASCII = str.maketrans(
    {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "·": "-", " ": " "}
)


@dataclass(frozen=True, slots=True)
class StudyFacts:
    """The study-level values the database does not hold: settings with SDTM_ names (see epro/config.py)."""

    studyid: str
    siteid: str
    country: str
    armcd: str
    arm: str
    title: str
    sponsor: str

    @classmethod
    def from_config(cls) -> StudyFacts:
        config = current_app.config
        return cls(
            studyid=str(config["SDTM_STUDYID"]),
            siteid=str(config["SDTM_SITEID"]),
            country=str(config["SDTM_COUNTRY"]),
            armcd=str(config["SDTM_ARMCD"]),
            arm=str(config["SDTM_ARM"]),
            title=str(config["SDTM_TITLE"] or config["STUDY_NAME"]),
            sponsor=str(config["SDTM_SPONSOR"]),
        )

    def usubjid(self, study_id: str) -> str:
        return f"{self.studyid}-{study_id}"


def sdtm_day(day0: date, on: date | None) -> int | None:
    """--DY: RFSTDTC (day 0 of the schedule) is day 1, the day before it -1; there is no day 0."""
    if on is None:
        return None
    days = study_day(day0, on)
    return days + 1 if days >= 0 else days


def ascii_text(text: str) -> str:
    """English text from the definitions as ASCII: curly quotes and dashes straightened, accents dropped.
    Anything else non-ASCII (free text typed in Korean) is kept and reported by the package writer."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return "".join(c for c in folded if not unicodedata.combining(c))


def is_ascii(value: object) -> bool:
    return not isinstance(value, str) or value.isascii()


def flag_baseline(records: list[dict[str, object]], day0: date, prefix: str) -> None:
    """--LOBXFL and --BLFL = Y on each test's baseline record (epro.baseline: the last result assessed on or
    before day 0), empty elsewhere. ``records`` are one subject's, in visit order. A test is its --TESTCD and,
    in FA, the condition it is about (FAOBJ)."""
    by_test: dict[object, list[tuple[int, date | None, bool]]] = {}
    for index, record in enumerate(records):
        by_test.setdefault((record[f"{prefix}TESTCD"], record.get(f"{prefix}OBJ")), []).append(
            (index, _date(record[f"{prefix}DTC"]), record[f"{prefix}STAT"] is None)
        )
    flagged = {baseline_key(day0, items) for items in by_test.values()}
    for index, record in enumerate(records):
        flag = "Y" if index in flagged else None
        record[f"{prefix}LOBXFL"] = flag
        record[f"{prefix}BLFL"] = flag


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None
