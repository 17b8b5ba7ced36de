"""What every export is made of: described columns and the options a reader chose."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVarTuple

from flask_babel import LazyString
from sqlalchemy import Row, Select
from sqlmodel import Session

from epro.codes import LANGUAGES
from epro.text import Text

#: Rows fetched from the database at a time; an export never holds more than one batch.
BATCH = 2000

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    description: LazyString
    #: A calendar date or time: left blank when the reader asks for study days instead of dates.
    calendar: bool = False


@dataclass(frozen=True, slots=True)
class Code:
    """One value a column holds, with its meaning: the data dictionary lists every format's codes.

    The meaning is text from a definition file, a lazy string, or a message id (epro.codes' words)."""

    column: str
    scope: str
    code: object
    meaning: Text | LazyString | str


@dataclass(frozen=True, slots=True)
class ExportOptions:
    #: Language of the labels taken from the instrument and protocol definitions.
    language: str = "ko"
    #: Blank every calendar date and time, keep study days (for sharing outside the site).
    study_days: bool = False
    #: SDTM STUDYID; USUBJID is STUDYID-<study ID>.
    studyid: str = "EPRO"
    #: Start the CSV with a UTF-8 byte order mark, so Excel shows Korean right on a double click.
    excel: bool = False
    #: Only this patient's rows (the certified copy); None: the whole study.
    patient_id: int | None = None

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown export language {self.language!r}")


def utc_iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, to the second: 2025-03-01T01:30:00Z."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(day: date | None) -> str:
    return "" if day is None else day.isoformat()


#: A cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_STARTS = "=+-@\t\r"


def spreadsheet_safe(text: str | None) -> str:
    """Text typed by a person, made inert for spreadsheets, the same way in every export: a leading
    = + - @, tab or CR gets a ' in front. A leading ' gets one more, so the change can be undone exactly
    (`as_stored`), e.g. to re-check the audit trail's hash chain from its CSV."""
    if not text:
        return ""
    return "'" + text if text[0] in FORMULA_STARTS + "'" else text


def as_stored(cell: str) -> str:
    """The text as stored, from a cell written by spreadsheet_safe."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in tuple(FORMULA_STARTS + "'") else cell


def stream(db: Session, query: Select[*Columns]) -> Iterator[Row[*Columns]]:
    """The rows of a plain-column query, BATCH at a time (a server-side cursor on PostgreSQL), read through
    the session's Core connection: no ORM objects, no identity map, nothing kept beyond the current batch."""
    yield from db.connection().execute(query, execution_options={"yield_per": BATCH})
