"""The study overview page, the study report and who may see them."""

from __future__ import annotations

import subprocess

from epro.study import cache
from tests import study_world
from tests.conftest import sign_in


def _study(app, world):  # type: ignore[no-untyped-def]
    study_world.build(app, world.staff("nurse1"))
    world.staff("inv", role="investigator", language="en")


def test_investigator_lands_on_the_study_page_and_sees_the_hand_computed_figures(app, world, client) -> None:  # type: ignore[no-untyped-def]
    _study(app, world)
    signed = sign_in(client, "inv")
    page = client.get(signed.headers["Location"], follow_redirects=True)
    assert page.request.path == "/study/"
    text = page.text
    assert "Study overview" in text
    # PS at week 1: n 3, 56.7 ± 15.3, median 60.0 (50.0–65.0); change n 2, -5.0 ± 21.2
    assert "56.7 ± 15.3" in text and "60.0 (50.0–65.0)" in text and "-5.0 ± 21.2" in text
    assert "Completion in window: 7 of 12 expected visits whose window has closed (58.3 %)" in text
    assert "the last value assessed on or before day 0 (the procedure date)" in text
    assert "Admitted elsewhere" in text  # the missed visit's reason in the matrix
    assert "60.0 ± 10.0 (50–70)" in text  # Table 1 age


def test_nurse_reaches_the_study_page_from_the_menu_but_lands_on_the_clinic_list(app, world, client) -> None:  # type: ignore[no-untyped-def]
    _study(app, world)
    signed = sign_in(client, "nurse1")
    home = client.get(signed.headers["Location"], follow_redirects=True)
    assert home.request.path == "/staff/"
    assert 'href="/study/"' in home.text
    assert client.get("/study/").status_code == 200


def test_the_page_follows_new_data(app, world, client) -> None:  # type: ignore[no-untyped-def]
    _study(app, world)
    sign_in(client, "inv")
    assert "3 patients" in client.get("/study/").text
    world.patient("EPR-299", day0_offset=-5)
    assert "4 patients" in client.get("/study/").text
    assert cache.cached(("stale",)) is None


def test_patients_and_anonymous_cannot_see_it(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/study/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_study_report_pdf_has_per_visit_n_and_mean_sd(app, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _study(app, world)
    target = tmp_path / "study.pdf"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["study-report", "--lang", "ko", "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = subprocess.run(
        ["pdftotext", "-layout", str(target), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "56.7 ± 15.3" in text and "60.0 (50.0–65.0)" in text
    assert "EPR-202" in text


def test_stats_export_matches_the_page(app, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv

    _study(app, world)
    target = tmp_path / "stats.csv"
    result = app.test_cli_runner().invoke(
        args=["export", "--format", "stats", "--lang", "en", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = {(r["measure_code"], r["visit_code"]): r for r in csv.DictReader(handle)}
    w1 = rows[("PS", "W1")]
    assert w1["n"] == "3" and float(w1["mean"]) == round(170 / 3, 6) and w1["median"] == "60.0"
    assert (w1["q1"], w1["q3"], w1["change_n"], w1["change_mean"]) == ("50.0", "65.0", "2", "-5.0")
    assert rows[("PS", "BL")]["change_n"] == "" and rows[("PS", "M1")]["sd"] == ""
    assert rows[("QOL", "M2")]["n"] == "0" and rows[("QOL", "M2")]["mean"] == ""
    assert w1["visit_label"] == "Week 1"


def test_matrix_shows_withdrawn_patients_and_each_patients_sign_off(app, world, client) -> None:  # type: ignore[no-untyped-def]
    import re
    from datetime import timedelta

    from epro import db
    from epro.audit import Actor
    from epro.clock import clinic_today
    from epro.followup.changes import withdraw
    from epro.models import Patient
    from tests.signing_helpers import investigator, sign

    nurse_id = world.staff("nurse1")
    ids = study_world.build(app, nurse_id)
    with app.app_context(), db.unit_of_work() as s:
        today = clinic_today()
        withdraw(
            s,
            Actor("staff", nurse_id, "nurse1"),
            s.get(Patient, ids["EPR-203"]),
            today - timedelta(days=5),
            "Moved abroad",
            today,
            None,
        )
    investigator(world)
    sign_in(client, "inv")
    assert sign(client, ids["EPR-201"]).status_code == 302
    text = client.get("/study/").text
    rows = {
        sid: row
        for row in re.findall(r"<tr>(.*?)</tr>", text, re.S)
        for sid in re.findall(r">(EPR-20\d)</a>", row)
    }
    assert 'data-signature-status="signed"' in rows["EPR-201"] and "Kim Jihoon" in rows["EPR-201"]
    assert 'data-signature-status="unsigned"' in rows["EPR-202"]
    withdrawn = f"withdrawn on {(today - timedelta(days=5)).isoformat()}"
    assert withdrawn in rows["EPR-203"] and 'title="Moved abroad"' in rows["EPR-203"]
    assert rows["EPR-203"].count("cell-cancelled") == 6  # M1 to M6
    assert withdrawn not in rows["EPR-202"]
    assert "Cancelled (withdrawn)" in text
    assert "Completion in window: 7 of 11 expected visits" in text
