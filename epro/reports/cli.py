"""`flask summary` and `flask summaries`: the per-patient PDF summary from the command line (audited)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlmodel import Session, select

from epro import db
from epro.audit import SYSTEM, record
from epro.models import Patient
from epro.reports import (
    EDITIONS,
    NotEnrolled,
    certified_report,
    enrolled_patient_ids,
    iter_reports,
    write_summaries_zip,
)

LANG = click.option(
    "--lang", "edition", type=click.Choice(EDITIONS), default="ko", show_default=True, help="both: bilingual"
)


def _generated_by() -> str:
    return getpass.getuser()


@click.command("summary")
@with_appcontext
@click.argument("study_id")
@LANG
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def summary_command(study_id: str, edition: str, output: Path) -> None:
    """Write one patient's PDF summary."""
    with Session(db.engine()) as reader:
        patient = reader.exec(select(Patient).where(Patient.study_id == study_id)).first()
        if patient is None or patient.id is None:
            raise click.ClickException(f"no patient with study ID {study_id}")
        try:
            report, certification = certified_report(reader, patient.id, _generated_by(), edition)
        except NotEnrolled as exc:
            raise click.ClickException(f"{study_id} is not enrolled yet") from exc
    from epro.reports.render import render_pdf  # WeasyPrint loads only where PDFs are made

    output.write_bytes(render_pdf(report, edition, certification))
    with db.unit_of_work() as session:
        record(session, SYSTEM, "export.summary", "patient", report.patient_id, field="edition", new=edition)
    click.echo(f"Wrote {output} ({output.stat().st_size // 1024} KiB).")


@click.command("summaries")
@with_appcontext
@LANG
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def summaries_command(edition: str, output: Path) -> None:
    """Write every enrolled patient's PDF summary into one ZIP file."""
    # Read without a write lock while rendering; the audit events go in one short write at the end.
    with Session(db.engine()) as reader:
        patient_ids = enrolled_patient_ids(reader)
        with (
            output.open("wb") as target,
            click.progressbar(length=len(patient_ids), label="Summaries", file=sys.stderr) as bar,
        ):
            reports = iter_reports(reader, patient_ids, _generated_by(), edition)
            count = write_summaries_zip(target, reports, edition, lambda _report: bar.update(1))
    with db.unit_of_work() as session:
        for patient_id in patient_ids:
            record(session, SYSTEM, "export.summaries", "patient", patient_id, field="edition", new=edition)
    click.echo(f"Wrote {output}: {count} summaries.")
