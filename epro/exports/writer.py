"""Turning an export into CSV text, chunk by chunk, and recording that it was taken.

The CSV is plain UTF-8 (no byte order mark, so Python's csv, pandas and R read STUDYID as STUDYID), with CRLF
line ends as RFC 4180 says. "For Excel" (--excel) starts it with a byte order mark, so Excel opens Korean
text correctly on a double click.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from flask import current_app
from sqlmodel import Session

from epro.audit import Actor, record
from epro.exports.columns import ExportOptions
from epro.exports.formats import ExportFormat

BOM = "\ufeff"
#: Rows per chunk handed to the file or the network.
CHUNK_ROWS = 500


def export_rows(export: ExportFormat, db: Session, options: ExportOptions) -> Iterator[list[object]]:
    """The export's rows; with the study-days option every calendar column is blank."""
    if options.study_days and not export.study_days:
        raise ValueError(f"the {export.name} export has no study-days option")
    blank = [i for i, column in enumerate(export.columns) if column.calendar] if options.study_days else []
    for row in export.rows(db, options):
        for index in blank:
            row[index] = ""
        yield row


def csv_chunks(export: ExportFormat, rows: Iterator[list[object]], *, excel: bool = False) -> Iterator[str]:
    """The CSV text: header first (after a byte order mark for Excel), then a chunk every CHUNK_ROWS rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if excel:
        buffer.write(BOM)
    writer.writerow([column.name for column in export.columns])
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def filename(export: ExportFormat, options: ExportOptions, at: datetime) -> str:
    """epro-sdtm-qs-en-studydays-20250301T0130Z.csv: the export and its options, never patient data."""
    parts = ["epro", export.name]
    if export.translated:
        parts.append(options.language)
    if options.study_days:
        parts.append("studydays")
    if options.excel:
        parts.append("excel")
    parts.append(at.strftime("%Y%m%dT%H%MZ"))
    return "-".join(parts) + ".csv"


def record_export(db: Session, actor: Actor, export: ExportFormat, options: ExportOptions) -> None:
    """Audit the export (who, what, when) in the caller's transaction."""
    record(
        db,
        actor,
        f"export.{export.name}",
        "export",
        export.name,
        field="options",
        new=f"lang={options.language}; study_days={'yes' if options.study_days else 'no'}"
        + ("; excel=yes" if options.excel else ""),
    )


def options_from_config(language: str, study_days: bool, excel: bool = False) -> ExportOptions:
    return ExportOptions(
        language=language,
        study_days=study_days,
        studyid=current_app.config.get("SDTM_STUDYID", "EPRO"),
        excel=excel,
    )
