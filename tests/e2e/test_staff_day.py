"""The nurse's day in a real browser, both tablet orientations, Korean and English: a failed form shows
itself again with the message and the input, day 0 is corrected after a preview, a patient is withdrawn,
the tablet's Pause asks first, the idle warning offers more time, and staff tables keep IDs and dates whole."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from epro import db
from epro.audit import SYSTEM
from epro.clock import clinic_today
from epro.enrolment import enrol
from epro.registry import register_patient
from epro.schedule import load_protocol
from tests.e2e.conftest import Study
from tests.e2e.screens import LANDSCAPE, PORTRAIT, Inspector, tablet
from tests.e2e.test_journeys import sign_in, url_of
from tests.gunicorn_harness import ROOT, GunicornServer

CASES = [
    pytest.param("ko", LANDSCAPE, "ES-401", id="korean-landscape"),
    pytest.param("en", PORTRAIT, "ES-402", id="english-portrait"),
]

#: Runs in the page: every ID and date cell that wraps onto a second line.
BROKEN_JS = """
() => [...document.querySelectorAll('table.visits time.date, table.visits td a, .code')]
  .filter((el) => el.getClientRects().length > 1 || el.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(el).lineHeight || 30))
  .map((el) => el.textContent.trim())
"""


#: Runs in the page: every visible control on a staff screen smaller than `min` px either way, and the
#: font the body text is drawn in.
STAFF_TARGETS_JS = """
(min) => {
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden'; };
  const controls = [...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea')].filter(shown)
    .filter((el) => !el.closest('.skip-link'));
  const sizeOf = (el) => {
    // A checkbox or radio counts with its label, which takes the tap.
    const target = (el.matches('input[type=checkbox], input[type=radio]') && el.closest('label')) || el;
    const r = target.getBoundingClientRect();
    return [r.width, r.height];
  };
  return {
    small: controls.filter((el) => { const [w, h] = sizeOf(el); return w < min || h < min; })
      .map((el) => `${el.tagName}.${el.className} "${(el.textContent || el.name || '').trim().slice(0, 30)}" ${sizeOf(el).map(Math.round).join('x')}`),
    count: controls.length,
    font: getComputedStyle(document.body).fontFamily,
    fontLoaded: document.fonts.check('16px "Epro Gothic"') && [...document.fonts].some((f) => f.family.includes('Epro Gothic') && f.status === 'loaded'),
  };
}
"""


def staff_screen(page: Page, seen: Inspector, name: str) -> None:
    """axe, and every control at least 48 px, in both orientations; the screen font is the app's own."""
    seen.axe(page, name)
    original = page.viewport_size
    for orientation, viewport in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page.set_viewport_size(viewport)
        page.evaluate("() => document.fonts.ready")
        measured = page.evaluate(STAFF_TARGETS_JS, 48)
        seen.measures.append(
            f"{name} ({orientation}): {measured['count']} controls, {len(measured['small'])} under 48 px"
        )
        if measured["small"]:
            seen.problems.append(f"{name} ({orientation}): controls under 48 px: {measured['small']}")
        if not measured["font"].startswith('"Epro Gothic"') or not measured["fontLoaded"]:
            seen.problems.append(f"{name}: screen font {measured['font']} loaded={measured['fontLoaded']}")
        if page.evaluate(BROKEN_JS):
            seen.problems.append(f"{name} ({orientation}): broken IDs or dates {page.evaluate(BROKEN_JS)}")
    assert original is not None
    page.set_viewport_size(original)


#: A tablet question screen, with both weights of the screen font, stays under 700 KB.
MAX_PAGE_BYTES = 700_000


def _today():  # type: ignore[no-untyped-def]
    return datetime.now(ZoneInfo("Asia/Seoul")).date()


def _patient(study: Study, study_id: str, language: str, day0_offset: int = 0) -> int:
    app = study.app()
    try:
        with app.app_context(), db.unit_of_work() as session:
            patient = register_patient(
                session, SYSTEM, study_id=study_id, birth_year=1950, sex="M", preferred_language=language
            )
            enrol(
                session,
                patient,
                load_protocol("default"),
                clinic_today() + timedelta(days=day0_offset),
                SYSTEM,
            )
            return patient.id or 0
    finally:
        app.extensions["epro_engine"].dispose()


def _patient_page(page: Page, server: GunicornServer, patient_id: int) -> None:
    page.goto(url_of(server, f"/staff/patients/{patient_id}"))


@pytest.mark.parametrize(("language", "viewport", "study_id"), CASES)
def test_form_failures_day0_correction_withdrawal_and_tables(
    server: GunicornServer, chromium: Browser, study: Study, artifacts: Path, language, viewport, study_id
) -> None:
    seen = Inspector(artifacts)
    patient_id = _patient(study, study_id, language, day0_offset=-10)
    context = tablet(chromium, viewport, language)
    page = context.new_page()
    sign_in(page, server, f"nurse_{language}", study.password, seen)

    # A staff table on a portrait tablet: no study ID or date broken across lines.
    page.set_viewport_size(PORTRAIT)
    page.goto(url_of(server, "/staff/patients"))
    assert page.evaluate(BROKEN_JS) == []
    staff_screen(page, seen, f"{language}-patients")
    page.set_viewport_size(viewport)

    # Failure 1: rescheduling outside the window without a reason keeps the date and says why.
    _patient_page(page, server, patient_id)
    assert page.evaluate(BROKEN_JS) == []
    page.locator("table.visits a", has_text="2" if language == "ko" else "Week 2").first.click()
    far = (_today() + timedelta(days=40)).isoformat()
    page.fill("#new_date", far)
    page.locator("form[action$='/reschedule'] button").tap()
    expect(page.locator("form[action$='/reschedule'] .field-error").first).to_be_visible()
    assert page.input_value("#new_date") == far
    assert "Redirecting" not in page.content()
    staff_screen(page, seen, f"{language}-visit-reschedule-failed")

    # The other nurse screens: staff entry, register.
    visit_url = page.url.removesuffix("/reschedule")
    page.goto(visit_url + "/enter")
    staff_screen(page, seen, f"{language}-enter-answers")
    page.goto(url_of(server, "/staff/patients/new"))
    staff_screen(page, seen, f"{language}-register")
    page.goto(visit_url)

    # Failure 2: marking missed without a reason.
    page.locator("form[action$='/missed'] button").tap()
    expect(page.locator("form[action$='/missed'] .field-error")).to_have_text(
        "사유를 입력해 주십시오." if language == "ko" else "Please give a reason."
    )

    # Failure 3: a day 0 far in the future on the correction page.
    _patient_page(page, server, patient_id)
    page.locator("a[href$='/day0']").tap()
    page.fill("#procedure_date", "2099-01-01")
    page.fill("#reason", "typo")
    page.locator("form button.primary").tap()
    expect(page.locator(".field-error")).to_be_visible()
    assert page.input_value("#reason") == "typo"
    staff_screen(page, seen, f"{language}-day0-failed")

    # Day-0 correction: preview lists status changes, then confirm.
    new_day0 = (_today() - timedelta(days=3)).isoformat()
    page.fill("#procedure_date", new_day0)
    page.locator("form button.primary").tap()
    expect(page.locator("table.visits")).to_be_visible()
    staff_screen(page, seen, f"{language}-day0-preview")
    page.locator("form button.primary").tap()
    page.wait_for_url(f"**/staff/patients/{patient_id}")
    assert new_day0 in page.content()

    # Withdrawal: with reason and date; the patient leaves the clinic list.
    page.locator("a[href$='/withdraw']").tap()
    page.fill("#reason", "moved")
    page.locator("form button.primary").tap()
    page.wait_for_url(f"**/staff/patients/{patient_id}")
    expect(page.locator(".withdrawn-banner")).to_be_visible()
    staff_screen(page, seen, f"{language}-withdrawn")
    assert page.locator("a[href$='/withdraw']").count() == 0
    page.goto(url_of(server, "/staff/"))
    staff_screen(page, seen, f"{language}-clinic-list")
    assert page.locator(f'#due a:text-is("{study_id}")').count() == 0
    context.close()

    # The investigator: every download on the Exports page, the PDF button at the top of the patient page.
    desk = tablet(chromium, viewport, language)
    page = desk.new_page()
    sign_in(page, server, f"investigator_{language}", study.password, seen)
    _patient_page(page, server, patient_id)
    staff_screen(page, seen, f"{language}-investigator-patient")
    button = page.locator("form.report-download button.primary").first.bounding_box()
    assert button is not None and button["y"] < page.viewport_size["height"], button
    page.goto(url_of(server, "/exports/"))
    staff_screen(page, seen, f"{language}-exports")
    for action in ("/reports/summaries", "/exports/everything.zip", "/exports/long.csv"):
        assert page.locator(f"form[action$='{action}']").count() == 1, action
    for path in ("/staff/audit/", "/staff/audit/verify", "/staff/patients"):
        page.goto(url_of(server, path))
        staff_screen(page, seen, f"{language}-investigator-{path.strip('/').replace('/', '-')}")
    desk.close()
    print("\n".join(seen.measures))
    seen.assert_clean()


@pytest.mark.parametrize(
    ("language", "viewport", "study_id"),
    [
        pytest.param("ko", PORTRAIT, "ES-501", id="korean-portrait"),
        pytest.param("en", LANDSCAPE, "ES-502", id="english-landscape"),
    ],
)
def test_pause_asks_first_and_the_idle_warning_gives_more_time(
    server: GunicornServer, chromium: Browser, study: Study, artifacts: Path, language, viewport, study_id
) -> None:
    seen = Inspector(artifacts)
    _patient(study, study_id, language)
    context = tablet(chromium, viewport, language)
    context.clock.install()
    page = context.new_page()
    sign_in(page, server, f"nurse_{language}", study.password, seen)
    page.tap(f'#due tr:has(a:text-is("{study_id}")) form button.primary')
    page.wait_for_url("**/tablet/language")
    loaded: dict[str, int] = {}
    page.on(
        "requestfinished",
        lambda request: loaded.__setitem__(request.url.split("/")[-1], request.sizes()["responseBodySize"]),
    )
    page.tap(f"button[name=language][value={language}]")
    page.wait_for_url("**/tablet/question/1")
    # Page weight of a question screen, fonts included (a first visit: nothing cached).
    page.evaluate("() => document.fonts.ready")
    page.wait_for_load_state("networkidle")
    # Repeat view: what this screen transferred (style, script and fonts come from the cache). First view:
    # the same plus every static file it loads, as served.
    repeat = sum(loaded.values())
    static_files = [name for name in loaded if name.endswith((".css", ".js", ".woff2"))]
    assert any(name.endswith(".woff2") for name in static_files), loaded
    first = loaded["1"] + sum(next((ROOT / "static").rglob(name)).stat().st_size for name in static_files)
    print(
        f"\n{language} question screen: first view {first} bytes, repeat view {repeat} bytes ({static_files})"
    )
    assert first < MAX_PAGE_BYTES and repeat < 20_000, loaded
    # The largest text still fits without scrolling.
    page.locator("[data-size='2']").tap()
    seen.fitness(page, f"{language}-question-largest-text", must_fit=True)
    seen.axe(page, f"{language}-question-largest-text")

    # 20 s before the lock (180 s): the warning; "I need more time" starts the wait again.
    context.clock.fast_forward("02:41")
    expect(page.locator("[data-idle-warning]")).to_be_visible()
    seen.axe(page, f"{language}-idle-warning")
    page.locator("[data-more-time]").tap()
    expect(page.locator("[data-idle-warning]")).to_be_hidden()
    context.clock.fast_forward("02:30")
    assert "/tablet/question/1" in page.url

    # Pause asks first; "keep answering" goes back, "yes" locks.
    page.locator(".kiosk-top a.pause").tap()
    page.wait_for_url("**/tablet/pause**")
    seen.axe(page, f"{language}-pause-confirm")
    seen.fitness(page, f"{language}-pause-confirm", must_fit=True)
    page.locator(".pause-buttons a.button").tap()
    page.wait_for_url("**/tablet/question/1")
    page.locator(".kiosk-top a.pause").tap()
    page.locator("[data-pause-confirm]").tap()
    page.wait_for_url("**/tablet/locked**")
    context.close()
    seen.assert_clean()
