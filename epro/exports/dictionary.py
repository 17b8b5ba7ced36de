"""The data dictionary: every column of every export and every code, in Korean and English.

Each format describes its own columns and codes (ExportFormat.columns and .codes); this only lists them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from flask_babel import LazyString, force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from epro.codes import LANGUAGES
from epro.exports.columns import Column, ExportOptions
from epro.text import Text

if TYPE_CHECKING:
    from epro.exports.formats import ExportFormat

COLUMNS = (
    Column("export", _l("Export the row describes: long, sdtm-qs, baseline, audit or dictionary.")),
    Column("column", _l("Column name in that export.")),
    Column(
        "scope",
        _l("Where a code applies: the instrument and version (and item), or the protocol and version."),
    ),
    Column(
        "code", _l("A value that appears in the column; empty on the row that describes the column itself.")
    ),
    Column("description_ko", _l("Description in Korean.")),
    Column("description_en", _l("Description in English.")),
    Column(
        "calendar_date",
        _l("Y for a calendar date or time: left blank in an export with study days instead of dates."),
    ),
)

#: What every CSV file is, described on each export's row with an empty column name.
FILE = _l(
    "The file: CSV in UTF-8 without a byte order mark, so Python, pandas and R read the first column's name "
    'as it is. "For Excel" (--excel) adds a byte order mark so Excel shows Korean correctly on a double click.'
)


def _both(text: LazyString | Text | str) -> tuple[str, str]:
    """Text from a data file, a lazy string, or a message id (epro.codes' words), in Korean and English."""
    if isinstance(text, Text):
        return text.ko, text.en
    ko, en = (_in_language(text, language) for language in LANGUAGES)
    return ko, en


def _in_language(text: LazyString | str, language: str) -> str:
    with force_locale(language):
        return str(text) if isinstance(text, LazyString) else gettext(text)


def rows(db: Session, options: ExportOptions, formats: Iterable[ExportFormat]) -> Iterator[list[object]]:
    formats = list(formats)
    for export in formats:
        yield [export.name, "", "", "", *_both(FILE), ""]
        for column in export.columns:
            yield [
                export.name,
                column.name,
                "",
                "",
                *_both(column.description),
                "Y" if column.calendar else "",
            ]
    for export in formats:
        if export.codes is not None:
            for code in export.codes(db, options):
                yield [export.name, code.column, code.scope, code.code, *_both(code.meaning), ""]
