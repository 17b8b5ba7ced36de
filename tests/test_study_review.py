"""Clinically meaningful change: listed for review in the clinic list until a nurse acknowledges it."""

from __future__ import annotations

import re

from sqlmodel import select

from epro.models import AuditEvent, ChangeReview, Visit
from tests import study_world
from tests.conftest import csrf_of, sign_in


def _study(app, world):  # type: ignore[no-untyped-def]
    ids = study_world.build(app, world.staff("nurse1"))
    world.staff("inv", role="investigator", language="en")
    with world.session() as s:
        w1 = s.exec(select(Visit).where(Visit.patient_id == ids["EPR-202"], Visit.code == "W1")).one()
        w2 = s.exec(select(Visit).where(Visit.patient_id == ids["EPR-201"], Visit.code == "W2")).one()
    return w1.id, w2.id


def _review_section(html: str) -> str:
    match = re.search(r'<section id="review">(.*?)</section>', html, re.S)
    assert match, "no review section"
    return match.group(1)


def test_falls_reaching_the_threshold_need_review_and_rises_do_not(app, world, client) -> None:  # type: ignore[no-untyped-def]
    _study(app, world)
    sign_in(client, "nurse1")
    section = _review_section(client.get("/staff/").text)
    # EPR-202 W1: PS 80 -> 60, WB 6 -> 4; EPR-201 W2: PS 60 -> 50 (exactly the threshold of 10).
    assert "PS: 80 → 60 (-20;" in section and "WB: 6 → 4 (-2;" in section
    assert "PS: 60 → 50 (-10;" in section
    assert section.count('class="review-form"') == 2
    assert "EPR-203" not in section  # no baseline, so no change
    assert "(+10;" not in section  # EPR-201 W1 and EPR-202 M1 rose by 10


def test_a_nurse_acknowledges_with_a_note_and_it_leaves_the_list(app, world, client) -> None:  # type: ignore[no-untyped-def]
    w1, _w2 = _study(app, world)
    sign_in(client, "nurse1")
    home = client.get("/staff/")
    token = csrf_of(home.text)
    empty = client.post(f"/study/reviews/{w1}", data={"csrf_token": token, "note": ""}, follow_redirects=True)
    assert "확인 메모를 입력해 주십시오." in empty.text
    with world.session() as s:
        assert s.exec(select(ChangeReview)).all() == []
    done = client.post(
        f"/study/reviews/{w1}",
        data={"csrf_token": token, "note": "Called the patient; seen on Friday"},
        follow_redirects=True,
    )
    section = _review_section(done.text)
    assert "PS: 80 → 60" not in section and "PS: 60 → 50" in section
    with world.session() as s:
        review = s.exec(select(ChangeReview)).one()
        assert review.visit_id == w1 and review.note == "Called the patient; seen on Friday"
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "review.acknowledge")).one()
        assert event.reason == "Called the patient; seen on Friday" and event.new_value == str(w1)
    again = client.post(
        f"/study/reviews/{w1}", data={"csrf_token": token, "note": "again"}, follow_redirects=True
    )
    assert "이 변화는 이미 확인되었습니다." in again.text
    # A visit with nothing to review cannot be acknowledged.
    with world.session() as s:
        quiet = s.exec(select(Visit).where(Visit.code == "M6")).first()
    assert (
        client.post(f"/study/reviews/{quiet.id}", data={"csrf_token": token, "note": "x"}).status_code == 404
    )


def test_investigators_read_the_list_but_cannot_acknowledge(app, world, client) -> None:  # type: ignore[no-untyped-def]
    w1, _w2 = _study(app, world)
    sign_in(client, "inv")
    home = client.get("/staff/")
    section = _review_section(home.text)
    assert "PS: 80 → 60" in section and "review-form" not in section
    refused = client.post(f"/study/reviews/{w1}", data={"csrf_token": csrf_of(home.text), "note": "ok"})
    assert refused.status_code == 403
    with world.session() as s:
        assert s.exec(select(ChangeReview)).all() == []


def test_the_baseline_is_chosen_by_date_not_by_visit_code(app, world, client) -> None:  # type: ignore[no-untyped-def]
    study_world.build_dated(app, world.staff("nurse1"))
    sign_in(client, "nurse1")
    section = _review_section(client.get("/staff/").text)
    # EPR-204: baseline transcribed late but assessed 3 days before day 0; W1 falls PS 10, WB 1, QOL 1.
    assert "EPR-204" in section and "PS: 50 → 40 (-10;" in section and "WB: 5 → 4 (-1;" in section
    # EPR-205's "BL" was done after day 0: no baseline, so its 20-point fall at W1 is not a change from it.
    assert "EPR-205" not in section
    assert section.count('class="review-form"') == 1
