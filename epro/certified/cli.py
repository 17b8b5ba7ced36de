"""`flask bundle STUDY_ID -o FILE.zip` and `flask bundle verify FILE.zip`."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from epro import db
from epro.audit import SYSTEM
from epro.certified.bundle import build_bundle, record_bundle, write_bundle
from epro.certified.verify import check_files, check_trail
from epro.models import utcnow
from epro.patient_records import patient_id_by_study_id
from epro.reports import EDITIONS, NotEnrolled


class BundleGroup(click.Group):
    """`bundle STUDY_ID ...` makes a bundle; `bundle verify FILE` checks one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group("bundle", cls=BundleGroup)
def bundle_command() -> None:
    """Certified copy of one patient's data: `bundle STUDY_ID -o FILE.zip`, `bundle verify FILE.zip`."""


@bundle_command.command("create")
@with_appcontext
@click.argument("study_id")
@click.option("--lang", "edition", type=click.Choice(EDITIONS), default="ko", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def create_command(study_id: str, edition: str, output: Path) -> None:
    """Write the certified copy of one patient (audited)."""
    with Session(db.engine()) as reader:
        patient_id = patient_id_by_study_id(reader, study_id)
        if patient_id is None:
            raise click.ClickException(f"no patient with study ID {study_id}")
        try:
            bundle = build_bundle(
                reader, patient_id, edition, f"{getpass.getuser()} (command line)", utcnow()
            )
        except NotEnrolled as exc:
            raise click.ClickException(f"{study_id} is not enrolled yet") from exc
    partial = output.with_name(output.name + ".partial")
    with partial.open("wb") as target:
        write_bundle(target, bundle)
    with db.unit_of_work() as session:
        record_bundle(session, SYSTEM, bundle)
    partial.replace(output)
    click.echo(
        f"Wrote {output}: {len(bundle.files)} files and the manifest (SHA-256 {bundle.manifest_sha256})."
    )


@bundle_command.command("verify")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--offline", is_flag=True, help="Check the files only, without the database.")
def verify_command(path: Path, offline: bool) -> None:
    """Check every file's SHA-256 and, with the database, the audit-chain head. Exit 1 on any problem."""
    check = check_files(path)
    if check.manifest is not None and not offline:
        try:
            with Session(db.engine()) as reader:
                check_trail(reader, check)
        except SQLAlchemyError as error:
            click.echo(f"audit trail: not checked, the database cannot be read ({type(error).__name__})")
    for line in check.passed:
        click.echo(f"ok    {line}")
    for line in check.problems:
        click.echo(f"FAIL  {line}", err=True)
    if not check.ok:
        raise SystemExit(1)
    click.echo(f"{path.name}: intact.")
