"""flask --app epro export --format long|sdtm-qs|audit|dictionary -o FILE.csv [--lang ko|en] [--study-days]
[--excel], or --format sdtm -o DIR for the SDTM submission package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from epro import db
from epro.audit import SYSTEM
from epro.codes import LANGUAGES
from epro.exports.formats import FORMATS
from epro.exports.writer import csv_chunks, export_rows, options_from_config, record_export

#: The SDTM package: a folder of datasets, not one CSV.
PACKAGE = "sdtm"


@click.command("export")
@with_appcontext
@click.option("--format", "name", type=click.Choice([*FORMATS, PACKAGE]), required=True, help="Which export.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="CSV file to write (a folder for --format sdtm).",
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Language of labels [default: English for SDTM, else the site's].",
)
@click.option("--study-days", is_flag=True, help="Blank every calendar date; keep study days.")
@click.option("--excel", is_flag=True, help="Start the CSV with a byte order mark, for Excel.")
def export_command(name: str, output: Path, lang: str | None, study_days: bool, excel: bool) -> None:
    """Write a study-wide export as CSV (UTF-8), row by row, or the SDTM package; the export is audited."""
    if name == PACKAGE:
        if study_days or excel:
            raise click.UsageError("the sdtm package has no --study-days or --excel option")
        from epro.sdtm.package import write_package

        package = write_package(output, language=lang or "en")
        for line in package.summary():
            click.echo(line)
        return
    export = FORMATS[name]
    if study_days and not export.study_days:
        raise click.UsageError(f"the {name} export has no --study-days option")
    language = lang or export.default_language or current_app.config["DEFAULT_LOCALE"]
    options = options_from_config(language, study_days, excel)
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
        for chunk in csv_chunks(export, counted(export_rows(export, reader, options)), excel=excel):
            handle.write(chunk)
    partial.replace(output)
    click.echo(f"Wrote {written} rows ({name}) to {output}.")
