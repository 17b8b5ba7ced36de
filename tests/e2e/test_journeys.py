"""Journeys in a real browser (Debian's Chromium) on tablet screens, by touch, against the real app
under gunicorn: a nurse enrols a patient and hands the tablet over, the patient answers, goes back once
to change an answer, reviews and submits, the tablet locks, the next patient on the same tablet sees
nothing of the first, an idle tablet locks itself, an investigator downloads the PDF summary.

Every screen is checked by axe-core (no serious or critical violation) and the patient's screens are
measured for touch and for older eyes. Screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SHORT_IDLE_SECONDS, Study
from tests.e2e.screens import LANDSCAPE, PORTRAIT, Inspector, squeeze, tablet, visit_of
from tests.gunicorn_harness import GunicornServer

#: (language, viewport, the new patient's study ID, the next patient on the same tablet)
JOURNEYS = [
    pytest.param("ko", LANDSCAPE, "EJ-101", "EJ-201", id="korean-landscape"),
    pytest.param("en", PORTRAIT, "EJ-102", "EJ-202", id="english-portrait"),
]
#: What the patient taps: PS 70, WB first 5 then (after going back) 3, QOL 6.
FINAL_ANSWERS = {"PS1": 70, "WB1": 3, "QOL1": 6}
#: The servers run with the default clinic time zone.
CLINIC_TIMEZONE = "Asia/Seoul"
SCORES_IN_A_ROW = re.compile(r"(?<![\d.])70%?\s+3\s+6(?![\d.])")
PATIENT_PAGE = re.compile(r".*/staff/patients/\d+$")
HOME_PAGE = re.compile(r".*/(staff|study)/$")


def url_of(server: GunicornServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def sign_in(page: Page, server: GunicornServer, username: str, password: str, seen: Inspector) -> None:
    if "/staff/login" not in page.url:
        page.goto(url_of(server, "/staff/login"))
    seen.axe(page, f"staff-login-{username}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.tap("form:has(#username) button.primary")
    page.wait_for_url(HOME_PAGE)  # nurses land on the clinic list, investigators on the study overview


def start_tablet(page: Page, study_id: str) -> None:
    """On the clinic list, the nurse taps the visit's "Start tablet session" button."""
    page.tap(f'#due tr:has(a:text-is("{study_id}")) form button.primary')
    page.wait_for_url("**/tablet/language")


def option_boxes(page: Page) -> list[dict[str, float]]:
    return page.eval_on_selector_all(
        "label.option",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })",
    )


def choose(page: Page, value: int) -> None:
    """Tap an answer: it is checked, Next comes alive, and nothing on the screen moves."""
    before = option_boxes(page)
    page.tap(f'label.option:has(input[value="{value}"])')
    assert option_boxes(page) == before, "choosing an answer moved the options"
    expect(page.locator(f'input[name=value][value="{value}"]')).to_be_checked()
    expect(page.locator("[data-next]")).to_be_enabled()


def answer_and_next(page: Page, value: int, then: str) -> None:
    choose(page, value)
    page.tap("[data-next]")
    page.wait_for_url(f"**{then}")


def question_screen(page: Page, seen: Inspector, name: str) -> None:
    """A question before any tap: nothing chosen, Next disabled, fits the tablet, passes axe."""
    expect(page.locator("fieldset legend")).to_be_visible()
    assert page.locator("input[name=value]:checked").count() == 0
    expect(page.locator("[data-next]")).to_be_disabled()
    seen.axe(page, name)
    seen.fitness(page, name, must_fit=True)


def focus_is_clear(page: Page) -> None:
    """By keyboard, the focused answer carries a thick ring (not only a colour change of the radio)."""
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name === 'value'"):
            break
    ring = page.eval_on_selector(
        "label.option:has(input:focus-visible)",
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }",
    )
    assert ring[0] != "none" and ring[1] >= 3, ring
    assert page.locator("input[name=value]:checked").count() == 0, "focus alone chose an answer"


@pytest.mark.parametrize(("language", "viewport", "study_id", "next_study_id"), JOURNEYS)
def test_enrol_answer_review_submit_lock_next_patient_and_pdf(
    server: GunicornServer,
    chromium: Browser,
    study: Study,
    artifacts: Path,
    language: str,
    viewport: dict[str, int],
    study_id: str,
    next_study_id: str,
) -> None:
    seen = Inspector(artifacts)
    context = tablet(chromium, viewport, language)
    context.clock.install()
    page = context.new_page()
    nurse = f"nurse_{language}"

    # The nurse signs in, registers and enrols the patient (day 0 today), and opens the clinic list.
    sign_in(page, server, nurse, study.password, seen)
    seen.axe(page, f"{language}-staff-clinic-list")
    switch = page.locator(".language-switch button[name=language]")
    assert switch.get_attribute("lang") == switch.get_attribute("value") != language
    page.tap('nav a[href$="/staff/patients"]')
    page.wait_for_url("**/staff/patients")
    seen.axe(page, f"{language}-staff-patients")
    page.tap('a[href$="/staff/patients/new"]')
    page.wait_for_url("**/staff/patients/new")
    seen.axe(page, f"{language}-staff-register")
    page.fill("#study_id", study_id)
    page.fill("#birth_year", "1951")
    page.tap("input[name=sex][value=M]")
    page.tap(f"input[name=preferred_language][value={language}]")
    page.tap("form:has(#study_id) button.primary")
    page.wait_for_url(PATIENT_PAGE)
    seen.axe(page, f"{language}-staff-patient-new")
    page.fill("#procedure_date", datetime.now(ZoneInfo(CLINIC_TIMEZONE)).date().isoformat())
    page.tap("form:has(#procedure_date) button.primary")
    expect(page.locator("table.visits")).to_be_visible()
    seen.axe(page, f"{language}-staff-patient-enrolled")
    page.tap('nav a[href$="/staff/"]')
    page.wait_for_url("**/staff/")
    expect(page.locator(f'#due tr:has(a:text-is("{study_id}"))')).to_be_visible()
    seen.shot(page, f"staff-clinic-list-{language}")

    # The tablet is handed over: language first, the patient's preferred one offered first.
    start_tablet(page, study_id)
    expect(page.locator("button[name=language]").first).to_have_attribute("value", language)
    # Each language's words are marked as that language (WCAG 3.1.2), on the tablet and in the staff menu.
    for button in page.locator("button[name=language]").all():
        assert button.get_attribute("lang") == button.get_attribute("value")
    seen.axe(page, f"{language}-tablet-language")
    seen.fitness(page, f"{language}-tablet-language", must_fit=True)
    page.tap(f"button[name=language][value={language}]")
    page.wait_for_url("**/tablet/question/1")
    assert page.locator("html").get_attribute("lang") == language

    question_screen(page, seen, f"{language}-tablet-question-1")
    focus_is_clear(page)
    answer_and_next(page, 70, "/tablet/question/2")
    question_screen(page, seen, f"{language}-tablet-question-2")
    answer_and_next(page, 5, "/tablet/question/3")
    question_screen(page, seen, f"{language}-tablet-question-3")
    # Back once: the earlier answer is still chosen, and is changed.
    page.tap(".kiosk-nav a.button.secondary")
    page.wait_for_url("**/tablet/question/2")
    expect(page.locator('input[name=value][value="5"]')).to_be_checked()
    choose(page, 3)
    seen.axe(page, f"{language}-tablet-question-2-chosen")
    page.tap("[data-next]")
    page.wait_for_url("**/tablet/question/3")
    answer_and_next(page, 6, "/tablet/review")

    values = [squeeze(text) for text in page.locator(".answer-value strong").all_inner_texts()]
    assert values == ["70%", "3", "6"]
    seen.axe(page, f"{language}-tablet-review")
    seen.fitness(page, f"{language}-tablet-review", must_fit=False)
    page.tap("form[data-submit-once] button.primary")
    page.wait_for_url("**/tablet/thanks")
    seen.axe(page, f"{language}-tablet-thanks")
    seen.fitness(page, f"{language}-tablet-thanks", must_fit=True)
    # The thank-you screen moves on to the locked screen by itself (15 s on the page's clock).
    context.clock.fast_forward("00:16")
    page.wait_for_url("**/tablet/locked")
    seen.axe(page, f"{language}-tablet-locked")
    seen.fitness(page, f"{language}-tablet-locked", must_fit=True)

    _, held = visit_of(study, study_id)
    assert held["responses"] == {item: (value, language, "patient") for item, value in FINAL_ANSWERS.items()}
    assert held["states"] == ["submitted"]

    # Going back through the tablet's history shows no answer of the patient who just finished.
    for _ in range(3):
        page.go_back()
        assert page.locator(".answer-value, input[name=value]:checked").count() == 0, page.url
    page.goto(url_of(server, "/tablet/review"))
    page.wait_for_url("**/tablet/locked")

    # The next patient on the same tablet (same browser) sees nothing of the first.
    page.tap('a[href$="/staff/login"]')
    page.wait_for_url("**/staff/login")
    sign_in(page, server, nurse, study.password, seen)
    start_tablet(page, next_study_id)
    page.tap(f"button[name=language][value={language}]")
    page.wait_for_url("**/tablet/question/1")
    assert page.locator("input[name=value]:checked").count() == 0
    expect(page.locator("[data-next]")).to_be_disabled()
    page.goto(url_of(server, "/tablet/review"))
    page.wait_for_url("**/tablet/question/1")
    assert study_id not in page.content()
    page.tap(".kiosk-top a.pause")
    page.wait_for_url("**/tablet/pause**")
    page.tap("[data-pause-confirm]")
    page.wait_for_url("**/tablet/locked**")
    _, next_held = visit_of(study, next_study_id)
    assert next_held["responses"] == {} and next_held["drafts"] == {}
    context.close()

    # The investigator downloads the PDF summary in the journey's language: it holds the scores.
    desk = tablet(chromium, LANDSCAPE, language)
    page = desk.new_page()
    sign_in(page, server, f"investigator_{language}", study.password, seen)
    page.goto(url_of(server, "/staff/patients"))
    page.tap(f'a:text-is("{study_id}")')
    page.wait_for_url(PATIENT_PAGE)
    seen.axe(page, f"{language}-investigator-patient")
    page.select_option("#summary-lang", language)
    with page.expect_download() as download:
        page.tap("form.report-download button.primary")
    pdf = Path(download.value.path())
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    (artifacts / f"summary-{language}.txt").write_text(text)
    assert study_id in text
    # The visit table's baseline row holds PS, WB and QOL as answered (the last answer to WB).
    assert any(SCORES_IN_A_ROW.search(line) for line in text.splitlines()), text
    desk.close()

    print(f"\n{language}: axe on {len(seen.checked)} screens, problems: {len(seen.problems)}")
    print("\n".join(seen.measures))
    seen.assert_clean()


def test_an_idle_tablet_locks_itself_and_keeps_the_answers(
    idle_server: GunicornServer, chromium: Browser, study: Study, artifacts: Path
) -> None:
    seen = Inspector(artifacts)
    context = tablet(chromium, LANDSCAPE, "ko")
    page = context.new_page()
    sign_in(page, idle_server, "nurse_ko", study.password, seen)
    start_tablet(page, "EJ-301")
    page.tap("button[name=language][value=ko]")
    page.wait_for_url("**/tablet/question/1")
    answer_and_next(page, 50, "/tablet/question/2")
    # Nobody touches the tablet: it locks itself.
    page.wait_for_url("**/tablet/locked", timeout=(SHORT_IDLE_SECONDS + 20) * 1000)
    seen.axe(page, "idle-locked")
    _, held = visit_of(study, "EJ-301")
    assert held["drafts"] == {"PS1": 50}
    assert held["responses"] == {}
    assert held["states"] == ["in_progress"]
    context.close()
    seen.assert_clean()
