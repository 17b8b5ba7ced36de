"""The flask commands: init-db, create-user, seed-demo, translate, backup and restore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlmodel import Session, select

from epro import db, demo, migrate
from epro.audit import SYSTEM
from epro.backup import backup_command, restore_command
from epro.catalog import sync_instruments
from epro.clock import clinic_today, clinic_zone
from epro.codes import LANGUAGES, ROLES
from epro.models import StaffUser
from epro.private_files import write_private_text
from epro.registry import create_staff_user
from epro.schedule import load_protocol
from epro.study import bring_tallies_up_to_date

ROOT = Path(__file__).resolve().parent.parent


@click.command("init-db")
def init_db_command() -> None:
    """Migrate the database to the newest schema, load the instrument definitions and bring the study
    overview's tallies up to date."""
    migrate.upgrade(db.engine())
    with db.unit_of_work() as session:
        added = sync_instruments(session)
    with Session(db.engine()) as session:
        bring_tallies_up_to_date(session)
    click.echo(
        f"Database at revision {migrate.current_revision(db.engine())}; {added} instrument version(s) added."
    )


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--language", type=click.Choice(LANGUAGES), default="ko", show_default=True)
@click.password_option()
def create_user_command(username: str, role: str, language: str, password: str) -> None:
    """Create a staff account (asks for the password)."""
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="password")
    with db.unit_of_work() as session:
        if session.exec(select(StaffUser).where(StaffUser.username == username)).first():
            raise click.ClickException(f"user {username} already exists")
        create_staff_user(
            session, SYSTEM, username=username, password=password, role=role, preferred_language=language
        )
    click.echo(f"Created {role} {username}.")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Create the demo study (five patients, one account per role) unless it is already there."""
    accounts = Path(current_app.instance_path) / "demo-accounts.txt"
    with db.unit_of_work() as session:
        if demo.is_seeded(session):
            click.echo("The demo study is already seeded.")
            if accounts.exists():
                click.echo(accounts.read_text())
            return
        protocol = load_protocol(current_app.config["PROTOCOL"])
        passwords = demo.seed(session, protocol, clinic_today(), clinic_zone())
    lines = "".join(f"  {name:<13} {password}\n" for name, password in passwords.items())
    text = f"Demo staff accounts (user name, password):\n{lines}"
    write_private_text(accounts, text)
    click.echo(f"Seeded the demo study: {len(demo.DEMO_PATIENTS)} patients.\n{text}")


#: How strings are extracted: gettext, lazy strings and menu labels with a context.
EXTRACT_ARGS = ("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_pgettext:1c,2", "--no-location")

translate = AppGroup("translate", help="Translation catalogs (wraps pybabel).")


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


@translate.command("update")
def translate_update() -> None:
    """Extract the strings and merge them into every catalog."""
    _pybabel(*EXTRACT_ARGS, "--sort-output", "-o", "messages.pot", ".")
    _pybabel("update", "-i", "messages.pot", "-d", "translations", "--no-fuzzy-matching", "--ignore-obsolete")
    (ROOT / "messages.pot").unlink()


@translate.command("compile")
def translate_compile() -> None:
    """Compile the catalogs to .mo files (build output, not committed)."""
    _pybabel("compile", "-d", "translations", "--statistics")


def init_app(app: Flask) -> None:
    for command in (
        init_db_command,
        create_user_command,
        seed_demo_command,
        translate,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
