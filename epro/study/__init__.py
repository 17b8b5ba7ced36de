"""The study at a glance: completion, per-visit statistics of every measure, Table 1, and the clinically
meaningful changes a nurse reviews. The page, the printed report and the statistics CSV share one
``StudyOverview`` (epro.study.overview), built by epro.study.compute.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from epro.clock import clinic_today, clinic_zone
from epro.models import utcnow
from epro.schedule import load_protocol
from epro.study import cache, tallies
from epro.study.compute import build_overview
from epro.study.overview import StudyOverview

READERS = ("nurse", "investigator", "admin")


def overview_for(db: Session, *, use_cache: bool = True) -> StudyOverview:
    """The overview of the site's protocol as of now (cached in this process per data version and clinic
    date; use_cache=False still reads the tallies kept in the database, brought up to date first)."""
    today = clinic_today()
    protocol = load_protocol(current_app.config["PROTOCOL"])
    study_name = current_app.config["STUDY_NAME"]
    key = cache.cache_key(db, today, protocol.code, protocol.version, study_name) if use_cache else None
    if key is not None and (found := cache.cached(key)) is not None:
        return found
    overview = build_overview(
        db, protocol, today=today, now=utcnow().astimezone(clinic_zone()), study_name=study_name
    )
    if key is not None:
        cache.remember(key, overview)
    return overview


def bring_tallies_up_to_date(db: Session) -> None:
    """Bring the study's stored tallies up to date now (after a migration, a restore or a bulk load), so
    that no page view pays for building them over a large study."""
    tallies.current(db, load_protocol(current_app.config["PROTOCOL"]), clinic_today())


def init_app(app: Flask) -> None:
    from epro.study.cli import study_report_command
    from epro.study.routes import bp
    from epro.templating import add_nav_link

    app.register_blueprint(bp)
    app.cli.add_command(study_report_command)
    add_nav_link(app, "study.overview", _l("Study overview"))
