"""The printed summary of the demo study, checked as an investigator would: text (pdftotext), fonts
(pdffonts), glyphs (the embedded font covers every character; pages rasterise), page numbers, editions,
the renderer's refusal to fetch anything but its own assets, the CLI commands, the downloads, and the
inline partial for the patient page."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask, render_template_string
from fontTools.ttLib import TTFont
from PIL import Image
from sqlmodel import Session, select
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from epro import create_app, db, demo, migrate
from epro.catalog import sync_instruments
from epro.clinical.child_pugh import child_pugh
from epro.clock import clinic_today, clinic_zone
from epro.models import AuditEvent, Patient
from epro.reports import inline_context, report_for
from epro.reports.render import FONTS, asset_fetcher, html_to_pdf, render_pdf
from epro.schedule import load_protocol
from tests.conftest import PASSWORD, csrf_of, sign_in

MEASURE_NAMES_KO = ("활동 수행 능력", "주관적 안녕감", "삶의 질")
WINDOW = r"(\(\d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d\)\s+)?"  # the window may wrap onto its own line
MEASURE_NAMES_EN = ("Performance status (patient-reported)", "Subjective well-being", "Quality of life")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("demo")
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{folder / 'e.sqlite3'}"}
    )
    with app.app_context():
        migrate.upgrade(db.engine())
        with db.unit_of_work() as s:
            sync_instruments(s)
            passwords = demo.seed(s, load_protocol("default"), clinic_today(), clinic_zone())
        app.config["DEMO_PASSWORDS"] = passwords
    yield app
    app.extensions["epro_engine"].dispose()


def patient_id(app: Flask, study_id: str) -> int:
    with Session(app.extensions["epro_engine"]) as s:
        return s.exec(select(Patient.id).where(Patient.study_id == study_id)).one()  # type: ignore[return-value]


@pytest.fixture(scope="module")
def pdfs(demo_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """EPR-001's summary (a missed visit, scores rising past the thresholds) in every edition."""
    folder = tmp_path_factory.mktemp("pdf")
    paths = {}
    with demo_app.app_context(), Session(db.engine()) as s:
        report = report_for(s, patient_id(demo_app, "EPR-001"), "investigator")
        for edition in ("ko", "en", "both"):
            paths[edition] = folder / f"{edition}.pdf"
            paths[edition].write_bytes(render_pdf(report, edition))
    return paths


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def text_of(pdf: Path, layout: bool = True) -> str:
    return run("pdftotext", *(["-layout"] if layout else []), pdf, "-")


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", pdf), re.M).group(1))  # type: ignore[union-attr]


def signed(value: int) -> str:
    return f"\\+{value}" if value > 0 else str(value)


def day0_of(app: Flask, study_id: str) -> date:
    with Session(app.extensions["epro_engine"]) as s:
        return s.exec(select(Patient.procedure_date).where(Patient.study_id == study_id)).one()  # type: ignore[return-value]


def test_korean_summary_holds_measure_names_scores_and_changes(
    demo_app: Flask, pdfs: dict[str, Path]
) -> None:
    text = text_of(pdfs["ko"])
    assert "요약 보고서" in text and "EPR-001" in text
    for name in MEASURE_NAMES_KO:
        assert name in text
    base = demo.DEMO_SCORES["BL"]
    day0 = day0_of(demo_app, "EPR-001")  # 120 days ago; M2 was marked missed
    for visit in load_protocol("default").visits:
        target = (day0 + timedelta(days=visit.day)).isoformat()
        stored = visit.code in demo.DEMO_SCORES and visit.code != "M2" and visit.day < 120
        if stored:
            ps, wb, qol = demo.DEMO_SCORES[visit.code]
            # Visit table: target date, actual date, status, PS, WB, QOL, days outside window.
            assert re.search(rf"{target}\s+{WINDOW}{target}\s+완료\s+{ps}\s+{wb}\s+{qol}\s+0\n", text), (
                visit.code
            )
            if visit.code != "BL":
                changes = [v - b for v, b in zip((ps, wb, qol), base, strict=True)]
                cells = r"\s+".join(signed(c) + ("" if c == 0 else " ▲") for c in changes)
                assert re.search(rf"{re.escape(visit.label('ko'))}\s+{visit.day}\s+{cells}\s*\n", text), (
                    visit.code
                )
    # The missed visit: its status and reason, no values, and no zero in their place.
    m2 = (day0 + timedelta(days=60)).isoformat()
    assert re.search(rf"{m2}\s+{WINDOW}—\s+방문 누락\s+—\s+—\s+—\s+—\n", text)
    assert "방문 누락, 사유: Patient admitted to another hospital" in text
    assert "±10점 기준에 도달" in text and "±1점 기준에 도달" in text
    assert "의미 있는 변화 기준" in text and "임상적 판단이 아닙니다" in text
    assert "기저치 60" in text


def test_summary_holds_the_clinical_indices_and_child_pugh_by_visit(pdfs: dict[str, Path]) -> None:
    """The busiest demo patient: one row per measure with its unit, one column per visit with values (and
    the missed M2, empty), then Child-Pugh score and class derived from them (INR criterion)."""
    patient = demo.DEMO_PATIENTS[0]
    shown = ["BL", "W1", "W2", "M1", "M3"]  # M2 missed; M4 on is in the future
    values = {code: demo.clinical_values(patient, code, list(demo.DEMO_SCORES).index(code)) for code in shown}
    text = text_of(pdfs["ko"])
    assert re.search(r"M2\n방문\s+BL\s+W1\s+W2\s+M1\s+방문 누락\s+M3\n", text)

    def row(label: str, cells: list[str]) -> None:
        cells = [*cells[:4], "—", *cells[4:]]  # the missed visit's column
        pattern = r"\s+".join(
            re.escape(cell).replace("\\ ", r"\s*") for cell in cells
        )  # bold "9 B" reads "9B"
        assert re.search(re.escape(label) + r"\s+" + pattern + r"\n", text), label

    row("ALB 알부민 (g/dL)", [f"{values[c]['ALB']:.1f}" for c in shown])
    row("WEIGHT 체중 (kg)", [f"{values[c]['WEIGHT']:.1f}" for c in shown])
    row("PT 프로트롬빈 시간 (활성도) (%)", [f"{values[c]['PT']:.0f}" for c in shown])
    row(
        "ICGR15 ICG 15분 정체율 (%)",
        [
            f"{values['BL']['ICGR15']:.1f}",
            "—",
            "—",
            f"{values['M1']['ICGR15']:.1f}",
            f"{values['M3']['ICGR15']:.1f}",
        ],
    )  # monthly only
    row("ASCITES 복수", ["중등도 이상", "중등도 이상", "중등도 이상", "경도", "경도"])
    # EPR-001 (Table 1: bilirubin 1.6, albumin 2.6, large ascites) is class B at baseline: 1 + 3 + 1 + 3 + 1.
    expected = [child_pugh(values[c]) for c in shown]
    assert expected[0] is not None and (expected[0].score, expected[0].grade) == (9, "B")
    row("Child-Pugh 점수와 등급", [f"{cp.score} {cp.grade}" for cp in expected if cp is not None])
    assert "사용한응고기준:INR." in "".join(text.split())  # the note may wrap, even inside a word
    english = text_of(pdfs["en"])
    assert re.search(r"ALB Albumin \(g/dL\)\s+2\.6\s+2\.7", english)
    assert re.search(r"WEIGHT Body weight \(kg\)\s+61\.2\s+60\.8", english)


def test_page_one_is_the_panel_of_scores_and_indices(pdfs: dict[str, Path]) -> None:
    """Page 1 holds every chart of the panel: the three scores, the indices with values, Child-Pugh."""
    for edition, titles in (
        (
            "ko",
            (
                "PS 활동 수행 능력",
                "ALB 알부민 (g/dL)",
                "WEIGHT 체중 (kg)",
                "CHOL 총콜레스테롤 (mg/dL)",
                "CP Child-Pugh 점수",
            ),
        ),
        (
            "en",
            (
                "PS Performance status",
                "ALB Albumin (g/dL)",
                "WEIGHT Body weight (kg)",
                "AFP Alpha-fetoprotein (ng/mL)",
                "CP Child-Pugh score",
            ),
        ),
    ):
        first = " ".join(text_of(pdfs[edition], layout=False).split("\f")[0].split())
        for title in titles:
            assert title in first, (edition, title)
    assert len(run("pdfimages", "-list", pdfs["ko"]).splitlines()) == 2  # the charts are vector drawings


def test_page_x_of_y_on_every_page(pdfs: dict[str, Path]) -> None:
    for edition, pattern in (("ko", r"{pages}쪽 중 {page}쪽"), ("en", r"Page {page} of {pages}")):
        pages = page_count(pdfs[edition])
        assert pages >= 2
        per_page = text_of(pdfs[edition]).split("\f")
        for number in range(1, pages + 1):
            assert re.search(pattern.format(page=number, pages=pages), per_page[number - 1]), (
                edition,
                number,
            )


def test_english_summary_likewise(pdfs: dict[str, Path]) -> None:
    text = text_of(pdfs["en"])
    assert "Summary report" in text and "요약" not in text
    for name in MEASURE_NAMES_EN:
        assert name in text
    assert "reaches the ±10-point threshold" in text and "reaches the ±1-point threshold" in text
    assert "conventions, not clinical judgements" in text
    assert re.search(r"Month 3\s+90\s+\+20 ▲\s+\+2 ▲\s+\+3 ▲", text)
    assert re.search(r"Month 2 \(Missed\)\s+—\s+—\s+—\s+—", text)


def test_bilingual_edition_holds_both_languages(pdfs: dict[str, Path]) -> None:
    text = " ".join(text_of(pdfs["both"], layout=False).split())
    for words in (
        "요약 보고서",
        "Summary report",
        "기저치 대비 변화",
        "Change from baseline",
        *MEASURE_NAMES_KO,
        *MEASURE_NAMES_EN,
    ):
        assert words in text
    assert "±10점 기준에 도달" in text and "reaches the ±10-point threshold" in text
    assert re.search(r"\d+쪽 중 1쪽 · Page 1 of \d+", text)


@pytest.mark.parametrize("edition", ["ko", "en", "both"])
def test_only_the_shipped_font_is_used_and_embedded(pdfs: dict[str, Path], edition: str) -> None:
    rows = run("pdffonts", pdfs[edition]).splitlines()[2:]
    assert rows
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert re.fullmatch(r"[A-Z]{6}\+Epro-?Gothic(-Bold)?", name), row
        assert emb == "yes", row


@pytest.mark.parametrize("edition", ["ko", "en", "both"])
def test_the_shipped_font_has_a_glyph_for_every_character(pdfs: dict[str, Path], edition: str) -> None:
    covered = set(TTFont(FONTS / "EproGothic-Regular.ttf").getBestCmap())
    covered &= set(TTFont(FONTS / "EproGothic-Bold.ttf").getBestCmap())
    characters = {ch for ch in text_of(pdfs[edition], layout=False) if not ch.isspace()}
    assert ("활" in characters) == (edition != "en")
    assert {ch for ch in characters if ord(ch) not in covered} == set()


def test_pages_rasterise_with_ink_on_them(pdfs: dict[str, Path], tmp_path: Path) -> None:
    result = subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdfs["ko"]), str(tmp_path / "page")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stderr == ""
    images = sorted(tmp_path.glob("page*.png"))
    assert len(images) == page_count(pdfs["ko"])
    for image in images:
        darkest, lightest = Image.open(image).convert("L").getextrema()
        assert darkest < 100 < lightest


def test_fonts_shipped_with_their_licence() -> None:
    assert "SIL Open Font License" in (FONTS / "OFL.txt").read_text()
    for font in FONTS.glob("*.ttf"):
        assert font.stat().st_size < 2 * 1024 * 1024
        assert "Nanum" not in TTFont(font)["name"].getDebugName(1)  # reserved font names stay off the subset


# The renderer fetches only its own assets ----------------------------------------------------------------


def test_fetcher_refuses_network_and_files_outside_the_assets(tmp_path: Path) -> None:
    fetcher = asset_fetcher()
    outside = tmp_path / "secret.css"
    outside.write_text("body { color: red }")
    for url in (
        "https://example.org/font.ttf",
        "http://127.0.0.1/style.css",
        outside.as_uri(),
        "file:///etc/passwd",
        (FONTS / ".." / "render.py").as_uri(),
        "data:text/css,body{}",
        "data:image/png;base64," + base64.b64encode(png_bytes()).decode(),
        "data:image/svg+xml;base64," + base64.b64encode(png_bytes()).decode(),  # not an SVG document
        "data:image/svg+xml," + quote('<svg xmlns="http://www.w3.org/2000/svg"/>'),  # only base64 is made
        "data:image/svg+xml;base64,not base64!",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch((FONTS / "EproGothic-Regular.ttf").as_uri()).read()[:4] == b"\x00\x01\x00\x00"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    inline = fetcher.fetch("data:image/svg+xml;base64," + base64.b64encode(svg).decode())
    assert inline.read() == svg and inline.content_type == "image/svg+xml"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_charts_are_vector_drawings_not_pictures(pdfs: dict[str, Path]) -> None:
    for edition in ("ko", "en"):
        assert len(run("pdfimages", "-list", pdfs[edition]).splitlines()) == 2  # header lines only


def test_a_document_pointing_outside_gets_nothing_embedded(demo_app: Flask, tmp_path: Path) -> None:
    picture = tmp_path / "outside.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    html = f'<p>x</p><img src="{picture.as_uri()}" alt="">'
    refused, allowed = tmp_path / "refused.pdf", tmp_path / "allowed.pdf"
    with demo_app.app_context():
        refused.write_bytes(html_to_pdf(html))
    allowed.write_bytes(HTML(string=html, url_fetcher=URLFetcher()).write_pdf())  # the default would fetch it
    assert len(run("pdfimages", "-list", allowed).splitlines()) == 3
    assert len(run("pdfimages", "-list", refused).splitlines()) == 2  # header lines only


# Where to get it: CLI, downloads, the patient page ---------------------------------------------------------


def test_cli_writes_one_summary(demo_app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "one.pdf"
    result = demo_app.test_cli_runner().invoke(args=["summary", "EPR-002", "--lang", "en", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:5] == b"%PDF-" and "EPR-002" in text_of(target)
    missing = demo_app.test_cli_runner().invoke(args=["summary", "EPR-999", "-o", str(tmp_path / "x.pdf")])
    assert missing.exit_code != 0 and "EPR-999" in missing.output


def test_cli_writes_every_enrolled_patient_into_a_zip(demo_app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "all.zip"
    result = demo_app.test_cli_runner().invoke(args=["summaries", "--lang", "ko", "-o", str(target)])
    assert result.exit_code == 0, result.output
    with Session(demo_app.extensions["epro_engine"]) as s:
        enrolled = s.exec(select(Patient.study_id).where(Patient.procedure_date.is_not(None))).all()  # type: ignore[union-attr]
        audited = s.exec(select(AuditEvent).where(AuditEvent.action == "export.summaries")).all()
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(f"summary-{sid}-ko.pdf" for sid in enrolled)
        assert all(archive.read(name)[:5] == b"%PDF-" for name in names)
    assert len(enrolled) == len(demo.DEMO_PATIENTS)
    assert {e.entity for e in audited} == {"patient"} and len(audited) >= len(enrolled)


def post_download(client, path: str, lang: str = "ko"):  # type: ignore[no-untyped-def]
    page = client.get("/staff/login")
    return client.post(path, data={"lang": lang, "csrf_token": csrf_of(page.text)})


def test_nurse_and_investigator_download_a_pdf_and_it_is_audited(demo_app: Flask) -> None:
    pid = patient_id(demo_app, "EPR-003")
    path = f"/reports/patients/{pid}/summary"
    for username in ("nurse", "investigator"):
        client = demo_app.test_client()
        assert sign_in(client, username, demo_app.config["DEMO_PASSWORDS"][username]).status_code == 302
        home = client.get("/staff/")
        response = client.post(path, data={"lang": "both", "csrf_token": csrf_of(home.text)})
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data[:5] == b"%PDF-"
        assert "EPR-003" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"
        bad = client.post(path, data={"lang": "fr", "csrf_token": csrf_of(home.text)})
        assert bad.status_code == 400
    with Session(demo_app.extensions["epro_engine"]) as s:
        events = s.exec(
            select(AuditEvent).where(AuditEvent.action == "export.summary", AuditEvent.entity_id == str(pid))
        ).all()
    assert [(e.actor_name, e.entity, e.new_value) for e in events] == [
        ("nurse", "patient", "both"),
        ("investigator", "patient", "both"),
    ]
    assert PASSWORD  # the demo accounts have their own generated passwords


def test_anonymous_gets_no_pdf_and_a_nurse_gets_no_zip(demo_app: Flask) -> None:
    pid = patient_id(demo_app, "EPR-001")
    anonymous = post_download(demo_app.test_client(), f"/reports/patients/{pid}/summary")
    assert anonymous.status_code == 401 and anonymous.mimetype != "application/pdf"
    assert demo_app.test_client().get(f"/reports/patients/{pid}/summary").status_code in (302, 405)
    nurse = demo_app.test_client()
    sign_in(nurse, "nurse", demo_app.config["DEMO_PASSWORDS"]["nurse"])
    assert post_download(nurse, "/reports/summaries").status_code == 403


def test_investigator_downloads_every_summary_as_a_zip(demo_app: Flask) -> None:
    client = demo_app.test_client()
    sign_in(client, "investigator", demo_app.config["DEMO_PASSWORDS"]["investigator"])
    response = post_download(client, "/reports/summaries", lang="en")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    data = response.data
    response.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.namelist()) == len(demo.DEMO_PATIENTS)
        assert all(name.endswith("-en.pdf") for name in archive.namelist())


def test_inline_partial_shows_the_same_charts_and_changes(demo_app: Flask) -> None:
    pid = patient_id(demo_app, "EPR-001")
    with demo_app.test_request_context("/", headers={"Accept-Language": "ko"}), Session(db.engine()) as s:
        html = render_template_string(
            '{% include "reports/_download_form.html" %}{% include "reports/_inline.html" %}',
            **inline_context(s, pid),
        )
    # The three scores, the eleven numeric indices (all measured) and Child-Pugh, on one study-day axis,
    # each with the visit codes under it (the page's columns vary with the screen).
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 3 + 11 + 1
    assert 'data-measure="WEIGHT"' in html and 'data-measure="CP"' in html
    assert html.count('class="tick-label visit-label" data-value="M6"') == 15
    assert "기저치 대비 변화" in html and "±10점 기준에 도달" in html
    assert re.search(r"3개월차</th>\s*<td class=\"num\">90</td>\s*<td class=\"num flagged\">\+20", html)
    assert f'action="/reports/patients/{pid}/summary"' in html and 'name="csrf_token"' in html
    assert "style=" not in html and "<script" not in html and "<style" not in html
