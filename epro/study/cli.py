"""`flask study-report --lang ko|en|both -o FILE.pdf`: the study overview as a PDF (audited)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from epro import db
from epro.audit import SYSTEM, record
from epro.reports.view import EDITIONS


@click.command("study-report")
@with_appcontext
@click.option(
    "--lang", "edition", type=click.Choice(EDITIONS), default="ko", show_default=True, help="both: bilingual"
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def study_report_command(edition: str, output: Path) -> None:
    """Write the study report: completion, statistics per visit, Table 1."""
    from epro.study import overview_for
    from epro.study.report import render_report_pdf

    with Session(db.engine()) as reader:
        overview = overview_for(reader, use_cache=False)
        pdf = render_report_pdf(reader, overview, edition)
    output.write_bytes(pdf)
    with db.unit_of_work() as session:
        record(session, SYSTEM, "export.study_report", "study", None, field="edition", new=edition)
    click.echo(f"Wrote {output} ({len(pdf) // 1024} KiB): {overview.patients} patients.")
