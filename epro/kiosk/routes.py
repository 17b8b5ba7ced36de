"""Patient mode. A patient here reaches only these screens (see epro.access); the session cookie says
which questionnaire session is open, and every form echoes its token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, inspect
from sqlalchemy import select as sql_select
from werkzeug.wrappers import Response as WerkzeugResponse

from epro import db
from epro.access import EVERYONE, allow
from epro.clock import clinic_today
from epro.codes import SessionState
from epro.kiosk import bp, fragments
from epro.kiosk.forms import KioskForm
from epro.models import DraftAnswer, Patient, QuestionnaireSession, Visit
from epro.numbers import InvalidNumber, parse_int
from epro.questionnaires import answers, patient_mode, sessions
from epro.questionnaires.errors import AlreadySubmitted, AnswerNotAChoice, UnansweredItems
from epro.questionnaires.steps import Step, steps_for_codes


class KioskError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@bp.errorhandler(KioskError)
def kiosk_error(error: KioskError) -> ResponseReturnValue:
    return render_template("kiosk/error.html", message=error.message), error.status


@dataclass(slots=True)
class OpenSession:
    """What every tablet page needs of the open questionnaire session (a row, not an ORM object)."""

    id: int
    state: str
    token: str
    language: str | None
    visit_id: int
    instruments: str
    preferred_language: str
    last_activity_at: datetime


class Draft(NamedTuple):
    value: int


_session_table = inspect(QuestionnaireSession).local_table
_visit_table = inspect(Visit).local_table
_patient_table = inspect(Patient).local_table
_draft_table = inspect(DraftAnswer).local_table
_PAGE_STATE = (
    sql_select(
        _session_table.c.id,
        _session_table.c.state,
        _session_table.c.token,
        _session_table.c.language,
        _session_table.c.visit_id,
        _visit_table.c.instruments,
        _patient_table.c.preferred_language,
        _session_table.c.last_activity_at,
        _draft_table.c.instrument_code,
        _draft_table.c.item_code,
        _draft_table.c.value,
    )
    .join(_visit_table, _visit_table.c.id == _session_table.c.visit_id)
    .join(_patient_table, _patient_table.c.id == _visit_table.c.patient_id)
    .outerjoin(_draft_table, _draft_table.c.session_id == _session_table.c.id)
    .where(_session_table.c.id == bindparam("sid"))
)
_page_state = db.PerDialect(lambda dialect: db.DriverStatement(_PAGE_STATE, dialect))


def open_session_row() -> QuestionnaireSession:
    """The open session as an ORM object, for the screens that change it (language, submit)."""
    row = db.session().get(QuestionnaireSession, g.questionnaire.id)
    assert row is not None
    return row


@bp.teardown_request
def end_durable_writes(_exc: BaseException | None) -> None:
    durable = g.pop("durable_writes", None)
    if durable is not None:
        durable.__exit__(None, None, None)


@bp.before_request
def load_open_session() -> WerkzeugResponse | None:
    """Lock an idle or finished tablet; otherwise load its session and show its language."""
    if request.endpoint in ("kiosk.locked", "kiosk.thanks"):
        return None
    current = patient_mode.current_state()
    if current is None:
        return redirect(url_for("kiosk.locked"))
    if request.endpoint == "kiosk.submit":
        g.durable_writes = db.durable()  # the final submission commits to disk before it is acknowledged
        g.durable_writes.__enter__()
    # One round trip for the session, the visit's instruments, the patient's language and the session's
    # draft answers (a row per draft, or one row with none): this runs before every tablet page. Plain
    # rows read on the DBAPI connection with SQL compiled once (db.driver_read), in a read of their own:
    # an answer then holds the writer's turn for its short write alone, its upsert guarded on the session
    # still being open under this token (answers.save_draft). The language and submit screens read in
    # their one BEGIN IMMEDIATE transaction, then change the session through the ORM (open_session_row).
    rows: Sequence[Sequence[Any]]
    if request.method == "POST" and request.endpoint != "kiosk.question":
        rows = db.session().connection().execute(_PAGE_STATE, {"sid": current["sid"]}).all()
    else:
        rows = db.driver_read(_page_state, {"sid": current["sid"]})
    questionnaire = OpenSession(*rows[0][:8]) if rows else None
    if patient_mode.is_idle(current, current_app.config["KIOSK_IDLE_SECONDS"]):
        if questionnaire is not None and questionnaire.state == SessionState.IN_PROGRESS:
            with db.write_in_read_request() as writer:
                sessions.lock_idle(writer, questionnaire.id, current["token"])
        patient_mode.end_patient_mode()
        return redirect(url_for("kiosk.locked"))
    if (
        questionnaire is None
        or questionnaire.state != SessionState.IN_PROGRESS
        or questionnaire.token != current["token"]
    ):
        return _no_longer_open(questionnaire.state if questionnaire else None)
    g.questionnaire = questionnaire
    g.drafts = {(row[8], row[9]): Draft(row[10]) for row in rows if row[8] is not None}
    patient_mode.show_in(questionnaire.language or questionnaire.preferred_language)
    g.default_language = questionnaire.preferred_language
    g.steps = steps_for_codes(questionnaire.instruments)
    patient_mode.touch()
    return None


def _no_longer_open(state: str | None) -> WerkzeugResponse:
    """The tablet's session is not open under its cookie's token: leave patient mode for the locked screen."""
    patient_mode.end_patient_mode()
    if request.method == "POST" and state == SessionState.SUBMITTED:
        # A double tap or a replayed form after submission: say so, store nothing.
        raise KioskError(_("These answers have already been submitted. Nothing was changed."), 409)
    return redirect(url_for("kiosk.locked"))


def _check_token() -> None:
    """A posted tablet form must echo the open session's token, else a clear error and nothing saved.
    (CSRFProtect has checked the CSRF token before the view; the form has no other field to validate,
    so it is read as posted rather than through a WTForms form.)"""
    if request.form.get("token") != g.questionnaire.token:
        raise KioskError(
            _(
                "This page belongs to a questionnaire that is no longer open on this tablet. Nothing was saved."
            ),
            400,
        )


def _not_a_choice() -> KioskError:
    return KioskError(_("That answer is not one of the choices. Nothing was saved."), 400)


def _language() -> str:
    """The language the open session is shown in (its choice, else the patient's preference)."""
    language = patient_mode.shown_language()
    assert language is not None
    return language


def _step(number: int) -> Step:
    if not 1 <= number <= len(g.steps):
        raise KioskError(_("This question does not exist."), 404)
    return g.steps[number - 1]


@bp.route("/")
@allow("patient")
def resume() -> ResponseReturnValue:
    return redirect(_where_now())


def _where_now() -> str:
    """Where the patient should be now: language first, then the first unanswered item, then review."""
    if g.questionnaire.language is None:
        return url_for("kiosk.language")
    step = answers.first_unanswered(g.drafts, g.steps)
    if step is None:
        return url_for("kiosk.review")
    return url_for("kiosk.question", number=step.number)


@bp.route("/language", methods=["GET", "POST"])
@allow("patient")
def language() -> ResponseReturnValue:
    form = KioskForm(token=g.questionnaire.token)
    if request.method == "POST":
        _check_token()
        chosen = request.form.get("language")
        if chosen is None or chosen not in current_app.config["LANGUAGES"]:
            raise KioskError(_("Please choose a language."), 400)
        database = db.session()
        sessions.set_language(database, open_session_row(), chosen)
        database.commit()
        g.questionnaire.language = chosen
        return redirect(_where_now())
    return render_template("kiosk/language.html", form=form, default_language=g.default_language)


@bp.route("/question/<int:number>", methods=["GET", "POST"])
@allow("patient")
def question(number: int) -> ResponseReturnValue:
    step = _step(number)
    if request.method == "POST":
        _check_token()
        raw = request.form.get("value", "")
        if not raw:
            raise KioskError(_("Please choose one answer, then press Next."), 400)
        try:
            value = parse_int(raw) if len(raw) <= 4 else None  # ASCII digits only: never '٧٠' for 70
        except InvalidNumber:
            value = None
        if value is None or str(value) != raw:
            raise _not_a_choice()
        try:
            # The answer's one guarded upsert, on the DBAPI connection: no SQLAlchemy session on its path.
            with db.driver_write() as connection:
                saved = answers.save_draft(
                    connection,
                    g.questionnaire.id,
                    g.questionnaire.token,
                    step,
                    value,
                    _language(),
                    last_activity=g.questionnaire.last_activity_at,
                )
        except AnswerNotAChoice:
            raise _not_a_choice() from None
        if not saved:  # submitted, paused or locked since this request read the session
            return _no_longer_open(sessions.state_of(db.session(), g.questionnaire.id))
        if request.form.get("then") == "review" or number == len(g.steps):
            return redirect(url_for("kiosk.review"))
        return redirect(url_for("kiosk.question", number=number + 1))
    draft = g.drafts.get((step.instrument.code, step.item.code))
    chosen = draft.value if draft else None
    return render_template(
        "kiosk/question.html",
        token=g.questionnaire.token,
        step=step,
        total=len(g.steps),
        chosen=chosen,
        fieldset=fragments.question_fieldset(step, chosen),
        then=(request.args.get("then") == "review" and "review") or "",
    )


@bp.route("/review")
@allow("patient")
def review() -> ResponseReturnValue:
    answered = g.drafts
    missing = answers.first_unanswered(answered, g.steps)
    if missing is not None:
        return redirect(url_for("kiosk.question", number=missing.number))
    rows = [
        (step, step.item.option(answered[(step.instrument.code, step.item.code)].value)) for step in g.steps
    ]
    return render_template("kiosk/review.html", rows=rows, form=KioskForm(token=g.questionnaire.token))


@bp.route("/submit", methods=["POST"])
@allow("patient")
def submit() -> ResponseReturnValue:
    _check_token()
    database = db.session()
    try:
        questionnaire = open_session_row()
        visit = database.get(Visit, questionnaire.visit_id)
        assert visit is not None
        answers.submit(database, questionnaire, visit, g.steps, sessions.PATIENT, clinic_today())
    except AlreadySubmitted:
        database.rollback()
        raise KioskError(_("These answers have already been submitted. Nothing was changed."), 409) from None
    except UnansweredItems:
        # Deliberately not an error page: an answer is missing (a form posted from a stale review page),
        # so the patient is taken to the first unanswered question, as the review page itself would.
        database.rollback()
        return redirect(url_for("kiosk.resume"))
    database.commit()
    patient_mode.end_patient_mode()
    session["language"] = _language()  # the thank-you screen speaks the patient's language
    return redirect(url_for("kiosk.thanks"))


@bp.route("/thanks")
@allow(*EVERYONE)
def thanks() -> ResponseReturnValue:
    return render_template("kiosk/thanks.html")


@bp.route("/locked")
@allow(*EVERYONE)
def locked() -> ResponseReturnValue:
    """The neutral screen: shows nothing of any patient. Reaching it always ends patient mode, and pausing
    here (or any way of reaching it from an open session) rotates the session's token, so a copy of the
    cookie taken before reaches nothing."""
    current = patient_mode.current_state()
    if current is not None:
        with db.write_in_read_request() as writer:
            sessions.pause(writer, current["sid"], current["token"])
        patient_mode.end_patient_mode()
    messages = []
    for lang in _languages_current_first():
        with force_locale(lang):
            messages.append(
                (
                    lang,
                    {
                        "title": _("The screen is locked."),
                        "body": _("Please return the tablet to the nurse."),
                    },
                )
            )
    return render_template("kiosk/locked.html", messages=messages, staff_sign_in=_("Staff sign-in"))


def _languages_current_first() -> list[str]:
    current = str(get_locale())
    return [current] + [lang for lang in current_app.config["LANGUAGES"] if lang != current]


@bp.route("/pause")
@allow("patient")
def pause() -> ResponseReturnValue:
    """Ask before pausing: pausing ends the patient's turn (answers so far are kept for the nurse)."""
    number = request.args.get("from", "")
    back = (
        url_for("kiosk.question", number=int(number))
        if number.isdecimal() and 1 <= int(number) <= len(g.steps)
        else url_for("kiosk.resume")
    )
    return render_template("kiosk/pause.html", back=back)
