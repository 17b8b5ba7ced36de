"""What the browser tests measure on a screen: axe-core's verdict, tablet fitness, screenshots; and
what they read back from the study's database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page
from sqlmodel import select

from epro import db
from epro.models import DraftAnswer, Patient, QuestionnaireSession, Response, Visit
from tests.e2e.conftest import Study
from tests.gunicorn_harness import ROOT

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LANDSCAPE = {"width": 1024, "height": 768}
PORTRAIT = {"width": 768, "height": 1024}
VIEWPORTS = {"landscape": LANDSCAPE, "portrait": PORTRAIT}
BLOCKING_IMPACTS = ("serious", "critical")
MIN_TARGET_PX = 48
MIN_PATIENT_TEXT_PX = 20

# Runs in the page: the tablet's measures of fitness for touch and for older eyes.
FITNESS_JS = """
(min) => {
  const box = (el) => el.getBoundingClientRect();
  const shown = (el) => { const r = box(el); return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden'; };
  const targets = [...document.querySelectorAll('main a, main button, main label.option')].filter(shown);
  const small = targets.filter((el) => box(el).width < min || box(el).height < min)
    .map((el) => `${el.tagName}.${el.className} ${Math.round(box(el).width)}x${Math.round(box(el).height)}`);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let smallest = 1000, smallestText = '';
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!node.textContent.trim() || !parent || !shown(parent)) continue;
    const size = parseFloat(getComputedStyle(parent).fontSize);
    if (size < smallest) { smallest = size; smallestText = node.textContent.trim(); }
  }
  return {
    scrollHeight: document.documentElement.scrollHeight,
    viewportHeight: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth,
    targets: targets.length,
    small,
    smallestTarget: Math.round(Math.min(...targets.map((el) => Math.min(box(el).width, box(el).height)))),
    smallestText: smallest,
    smallestTextSample: smallestText,
  };
}
"""

AXE_RUN_JS = """
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 200)),
  }));
}
"""


def tablet(chromium: Browser, viewport: dict[str, int], language: str) -> BrowserContext:
    """A touch tablet whose browser prefers `language`; CSP bypassed only so axe can be injected."""
    return chromium.new_context(
        viewport=viewport,
        has_touch=True,
        locale="ko-KR" if language == "ko" else "en-US",
        bypass_csp=True,
        accept_downloads=True,
    )


@dataclass
class Inspector:
    """Runs axe on every screen it is shown and keeps what it found, for one assertion at the end."""

    artifacts: Path
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)

    def axe(self, page: Page, screen: str) -> None:
        assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: `make install` runs npm ci"
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE_SCRIPT))
        violations = page.evaluate(AXE_RUN_JS)
        self.checked.append(screen)
        for violation in violations:
            if violation["impact"] in BLOCKING_IMPACTS:
                self.problems.append(
                    f"{screen} {page.url}: {violation['impact']} {violation['id']} ({violation['help']}) "
                    f"{violation['nodes']}"
                )

    def shot(self, page: Page, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    def fitness(self, page: Page, screen: str, *, must_fit: bool) -> dict[str, object]:
        """Measured in both tablet orientations (the page is left in its original one)."""
        original = page.viewport_size
        report: dict[str, object] = {}
        for orientation, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            measured = page.evaluate(FITNESS_JS, MIN_TARGET_PX)
            report[orientation] = measured
            where = f"{screen} ({orientation})"
            self.measures.append(
                f"{where}: page {measured['scrollHeight']}/{measured['viewportHeight']} px high, "
                f"smallest text {measured['smallestText']} px, {measured['targets']} targets "
                f"(smallest {measured['smallestTarget']} px)"
            )
            if measured["small"]:
                self.problems.append(f"{where}: targets under {MIN_TARGET_PX} px: {measured['small']}")
            if measured["smallestText"] < MIN_PATIENT_TEXT_PX:
                self.problems.append(
                    f"{where}: text of {measured['smallestText']} px: {measured['smallestTextSample']!r}"
                )
            if measured["scrollWidth"] > measured["viewportWidth"]:
                self.problems.append(f"{where}: scrolls sideways ({measured['scrollWidth']} px)")
            if must_fit and measured["scrollHeight"] > measured["viewportHeight"]:
                self.problems.append(
                    f"{where}: needs scrolling ({measured['scrollHeight']} > {measured['viewportHeight']} px)"
                )
            self.shot(page, f"{screen}-{orientation}")
        assert original is not None
        page.set_viewport_size(original)
        return report

    def assert_clean(self) -> None:
        assert self.checked, "no screen was checked"
        assert not self.problems, "\n".join(self.problems)


def visit_of(study: Study, study_id: str, code: str = "BL") -> tuple[int, dict[str, object]]:
    """The visit's id and what the database holds for it: responses, drafts, session states."""
    app = study.app()
    try:
        with app.app_context(), db.unit_of_work() as session:
            visit = session.exec(
                select(Visit).join(Patient).where(Patient.study_id == study_id, Visit.code == code)
            ).one()
            sessions = session.exec(
                select(QuestionnaireSession).where(QuestionnaireSession.visit_id == visit.id)
            ).all()
            responses = session.exec(select(Response).where(Response.visit_id == visit.id)).all()
            drafts = session.exec(
                select(DraftAnswer).where(DraftAnswer.session_id.in_([s.id for s in sessions]))  # type: ignore[union-attr]
            ).all()
            held = {
                "responses": {r.item_code: (r.value, r.language, r.entered_by) for r in responses},
                "drafts": {d.item_code: d.value for d in drafts},
                "states": sorted(s.state for s in sessions),
            }
            return visit.id or 0, held
    finally:
        app.extensions["epro_engine"].dispose()


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)
