"""flask --app epro export --format long|sdtm-qs|audit|dictionary -o FILE.csv [--lang ko|en] [--study-days]"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from epro import db
from epro.audit import SYSTEM
from epro.exports.columns import LANGUAGES
from epro.exports.formats import FORMATS
from epro.exports.writer import csv_chunks, export_rows, options_from_config, record_export


@click.command("export")
@with_appcontext
@click.option("--format", "name", type=click.Choice(list(FORMATS)), required=True, help="Which export.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV file to write.",
)
@click.option(
    "--lang", type=click.Choice(LANGUAGES), default=None, help="Language of labels [default: the site's]."
)
@click.option("--study-days", is_flag=True, help="Blank every calendar date; keep study days.")
def export_command(name: str, output: Path, lang: str | None, study_days: bool) -> None:
    """Write a study-wide export as CSV (UTF-8 with BOM), row by row; the export is audited."""
    export = FORMATS[name]
    if study_days and not export.study_days:
        raise click.UsageError(f"the {name} export has no --study-days option")
    options = options_from_config(lang or current_app.config["DEFAULT_LOCALE"], study_days)
    with db.unit_of_work() as audit_session:
        record_export(audit_session, SYSTEM, export, options)
    written = 0

    def counted(rows: Iterator[list[object]]) -> Iterator[list[object]]:
        nonlocal written
        for row in rows:
            written += 1
            yield row

    # Written beside the target and moved into place at the end: a failed export leaves no half file.
    partial = output.with_name(output.name + ".partial")
    with Session(db.engine()) as reader, partial.open("w", encoding="utf-8", newline="") as handle:
        for chunk in csv_chunks(export, counted(export_rows(export, reader, options))):
            handle.write(chunk)
    partial.replace(output)
    click.echo(f"Wrote {written} rows ({name}) to {output}.")
