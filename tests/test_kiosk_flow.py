"""A patient answers the three questionnaires on the tablet; the answers are stored safely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from epro.codes import SessionState
from epro.models import AuditEvent, DraftAnswer, QuestionnaireSession, Response, Visit
from epro.questionnaires import answers
from epro.questionnaires.steps import steps_for
from tests.conftest import csrf_of
from tests.kiosk_helpers import Tablet, handed_over


def _responses(world, visit_id):  # type: ignore[no-untyped-def]
    with world.session() as s:
        return s.exec(select(Response).where(Response.visit_id == visit_id).order_by(Response.id)).all()


def test_patient_completes_all_three_items_in_korean(world, client):
    world.staff()
    patient = world.patient(language="en")
    visit = world.visit(patient, "BL")
    tablet = Tablet(client)
    tablet.start("nurse1", visit.id)

    language_page = client.get("/tablet/language")
    assert 'lang="en"' in language_page.text and "한국어" in language_page.text
    assert tablet.choose_language("ko").location.endswith("/tablet/question/1")

    question = client.get("/tablet/question/1")
    assert '<html lang="ko">' in question.text
    assert "1 / 3" in question.text
    assert "오늘 일상생활을" in question.text
    assert "checked" not in question.text, "nothing is pre-selected"
    assert "data-next disabled" in question.text, "Next is disabled until an answer"
    assert question.text.count('type="radio"') == 11

    assert tablet.answer(1, 70).location.endswith("/tablet/question/2")
    assert "2 / 3" in client.get("/tablet/question/2").text
    assert tablet.answer(2, 5).location.endswith("/tablet/question/3")
    assert tablet.answer(3, 6).location.endswith("/tablet/review")
    review = client.get("/tablet/review")
    assert "응답 확인" in review.text and "조금 좋음" in review.text and "좋음" in review.text

    before = datetime.now(UTC)
    done = tablet.submit()
    assert done.location.endswith("/tablet/thanks")
    assert "감사합니다" in client.get("/tablet/thanks").text

    rows = _responses(world, visit.id)
    assert [(r.instrument_code, r.instrument_version, r.item_code, r.value, r.language) for r in rows] == [
        ("PS", "1.1", "PS1", 70, "ko"),
        ("WB", "1.0", "WB1", 5, "ko"),
        ("QOL", "1.0", "QOL1", 6, "ko"),
    ]
    for row in rows:
        assert row.entered_by == "patient"
        assert row.submitted_at.tzinfo is UTC
        assert before - timedelta(seconds=5) <= row.submitted_at <= datetime.now(UTC)
    with world.session() as s:
        assert s.get(Visit, visit.id).actual_date == world.today()
        assert s.exec(select(DraftAnswer)).all() == []

    # The tablet ends locked: patient pages and staff pages are out of reach.
    assert client.get("/tablet/question/1").location.endswith("/tablet/locked")
    assert "/staff/login" in client.get("/staff/").location


def test_back_and_change_from_review_keeps_one_answer_per_item(world, client):
    tablet, visit = handed_over(world, client)
    tablet.choose_language("en")
    tablet.answer(1, 90)
    back = client.get("/tablet/question/1")
    assert 'value="90" checked' in back.text, "going back shows the answer given"
    tablet.answer(1, 80)
    tablet.answer(2, 3)
    tablet.answer(3, 4)
    change = client.get("/tablet/question/2?then=review")
    assert 'name="then" value="review"' in change.text
    assert tablet.post("/tablet/question/2", value="6", then="review").location.endswith("/tablet/review")
    assert tablet.submit().status_code == 302
    assert [r.value for r in _responses(world, visit.id)] == [80, 6, 4]


def test_replayed_submit_stores_nothing_more(world, client):
    tablet, visit = handed_over(world, client)
    cookie = client.get_cookie("epro_session").value
    tablet.complete()
    # The replay carries the old cookie (still in patient mode) and the same form.
    client.set_cookie("epro_session", cookie)
    replay = tablet.submit()
    assert replay.status_code == 409
    assert "이미 제출되었습니다" in replay.text
    assert len(_responses(world, visit.id)) == 3
    # An answer replayed after submission is refused too.
    client.set_cookie("epro_session", cookie)
    assert tablet.answer(1, 10).status_code in (302, 409)
    assert [r.value for r in _responses(world, visit.id)] == [70, 5, 6]


def test_submit_before_every_answer_leads_to_the_first_unanswered_question(world, client):
    """A submit posted while an item has no answer (a stale review page) stores nothing and takes the
    patient to that question, as the review page would."""
    tablet, visit = handed_over(world, client)
    tablet.choose_language("ko")
    tablet.answer(1, 70)
    tablet.answer(3, 6)
    response = tablet.submit()
    assert response.status_code == 302 and response.headers["Location"].endswith("/tablet/")
    assert client.get("/tablet/").headers["Location"].endswith("/tablet/question/2")
    assert _responses(world, visit.id) == []
    tablet.answer(2, 5)
    assert tablet.submit().headers["Location"].endswith("/tablet/thanks")
    assert [r.value for r in _responses(world, visit.id)] == [70, 5, 6]


def test_out_of_range_values_are_refused_and_nothing_stored(world, client):
    tablet, _ = handed_over(world, client)
    tablet.choose_language("ko")
    for number, bad in ((1, "110"), (1, "75"), (1, "-10"), (1, "ten"), (3, "8"), (3, "0"), (2, "")):
        response = tablet.answer(number, bad)
        assert response.status_code == 400, (number, bad)
        assert "저장되지 않았습니다" in response.text or "선택한 다음" in response.text
    with world.session() as s:
        assert s.exec(select(DraftAnswer)).all() == []


def test_post_without_csrf_is_refused_with_a_clear_message(world, client):
    tablet, _ = handed_over(world, client)
    tablet.choose_language("ko")
    response = client.post("/tablet/question/1", data={"token": tablet.token, "value": "70"})
    assert response.status_code == 400
    assert "아무것도 저장되지 않았습니다" in response.text
    with world.session() as s:
        assert s.exec(select(DraftAnswer)).all() == []


def test_tampered_session_token_is_refused(world, client):
    tablet, _ = handed_over(world, client)
    tablet.token = "not-the-token"
    response = tablet.choose_language("ko")
    assert response.status_code == 400
    assert "아무것도 저장되지 않았습니다" in response.text
    with world.session() as s:
        assert s.exec(select(QuestionnaireSession)).one().language is None


def test_tampered_visit_id_is_refused(world, client):
    world.staff()
    world.patient()
    tablet = Tablet(client)
    from tests.conftest import sign_in

    sign_in(client, "nurse1")
    home = client.get("/staff/")
    response = client.post("/staff/visits/99999/tablet", data={"csrf_token": csrf_of(home.text)})
    assert response.status_code == 404
    assert "없는 페이지" in response.text
    with world.session() as s:
        assert s.exec(select(QuestionnaireSession)).all() == []
    assert tablet.token == ""


def test_patient_mode_reaches_nothing_else(world, client):
    world.staff()
    patient = world.patient()
    other = world.patient("EPR-102", day0_offset=0)
    visit = world.visit(patient, "BL")
    tablet = Tablet(client)
    tablet.start("nurse1", visit.id)
    for path in ("/staff/", "/staff/login", "/"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/tablet/"), path
    other_visit = world.visit(other, "BL")
    response = client.post(f"/staff/visits/{other_visit.id}/tablet", data={"csrf_token": tablet.csrf})
    assert response.status_code == 302 and response.location.endswith("/tablet/")
    with world.session() as s:
        sessions = s.exec(select(QuestionnaireSession)).all()
    assert [q.visit_id for q in sessions] == [visit.id]


def test_idle_tablet_locks_keeps_answers_and_staff_can_resume(world, client, app):
    app.config["KIOSK_IDLE_SECONDS"] = 0  # every request after the first counts as idle
    world.staff()
    visit = world.visit(world.patient(), "BL")
    tablet = Tablet(client)
    app.config["KIOSK_IDLE_SECONDS"] = 3600
    tablet.start("nurse1", visit.id)
    tablet.choose_language("ko")
    tablet.answer(1, 60)
    app.config["KIOSK_IDLE_SECONDS"] = -1
    locked = client.get("/tablet/question/2", follow_redirects=True)
    assert locked.request.path == "/tablet/locked"
    assert "화면이 잠겼습니다" in locked.text and "The screen is locked." in locked.text
    assert "EPR-101" not in locked.text
    with world.session() as s:
        questionnaire = s.exec(select(QuestionnaireSession)).one()
        assert questionnaire.state == SessionState.IN_PROGRESS
        assert [d.value for d in s.exec(select(DraftAnswer)).all()] == [60]
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "session.idle_lock")).first() is not None
    app.config["KIOSK_IDLE_SECONDS"] = 3600
    tablet.start("nurse1", visit.id)  # the nurse signs in again and resumes
    assert client.get("/tablet/").location.endswith("/tablet/question/2")
    tablet.answer(2, 4)
    tablet.answer(3, 4)
    tablet.submit()
    assert [r.value for r in _responses(world, visit.id)] == [60, 4, 4]


def test_a_new_instrument_version_serves_new_sessions_and_keeps_the_old_one(world, client):
    from epro import instruments
    from epro.models import ItemOption

    assert instruments.current("PS").version == "1.1"
    assert instruments.get("PS", "1.0").items[0].values == instruments.current("PS").items[0].values
    with world.session() as s:
        versions = {
            o.instrument_version for o in s.exec(select(ItemOption).where(ItemOption.instrument_code == "PS"))
        }
    assert versions == {"1.0", "1.1"}, "answers given on 1.0 keep valid options"
    tablet, visit = handed_over(world, client)
    tablet.choose_language("ko")
    assert "제 몸 돌보기는" in client.get("/tablet/question/1").text
    tablet.answer(1, 60)
    tablet.answer(2, 4)
    tablet.answer(3, 4)
    tablet.submit()
    assert [(r.instrument_code, r.instrument_version) for r in _responses(world, visit.id)] == [
        ("PS", "1.1"),
        ("WB", "1.0"),
        ("QOL", "1.0"),
    ]


def test_an_answer_is_stored_only_while_its_session_is_open_under_its_token(world, client):
    """The answer POST reads the session in one transaction and writes in a later one; the write itself
    checks that the session is still in progress under the page's token, so a session paused (new token)
    or submitted in between stores nothing."""
    tablet, visit = handed_over(world, client)
    tablet.choose_language("ko")
    step = steps_for(visit)[0]
    with world.session() as s:
        questionnaire = s.exec(
            select(QuestionnaireSession).where(QuestionnaireSession.visit_id == visit.id)
        ).one()
        assert questionnaire.id is not None
        assert not answers.save_draft(s, questionnaire.id, "a-token-from-before-a-pause", step, 70, "ko")
        assert answers.save_draft(s, questionnaire.id, questionnaire.token, step, 70, "ko")
        assert answers.save_draft(s, questionnaire.id, questionnaire.token, step, 80, "ko")
        s.commit()
        drafts = s.exec(select(DraftAnswer).where(DraftAnswer.session_id == questionnaire.id)).all()
        assert [d.value for d in drafts] == [80]
    assert tablet.complete(values=(80, 5, 6)).status_code == 302
    with world.session() as s:
        submitted = s.exec(
            select(QuestionnaireSession).where(QuestionnaireSession.visit_id == visit.id)
        ).one()
        assert submitted.id is not None and submitted.state == SessionState.SUBMITTED
        assert not answers.save_draft(s, submitted.id, submitted.token, step, 10, "ko")
        s.commit()
        assert s.exec(select(DraftAnswer).where(DraftAnswer.session_id == submitted.id)).all() == []
    assert [r.value for r in _responses(world, visit.id)] == [80, 5, 6]


def test_question_pages_of_two_tablets_in_two_languages_each_show_their_own_language_and_answer(world, app):
    """A question's text, choices, text-size control and idle warning are rendered once per language and
    reused (epro.kiosk.fragments): two tablets served by one process, one in Korean and one in English,
    each still see their own language and their own chosen answer."""
    world.staff()
    korean, english = Tablet(app.test_client()), Tablet(app.test_client())
    korean.start("nurse1", world.visit(world.patient(), "BL").id)
    english.start("nurse1", world.visit(world.patient("EPR-102"), "BL").id)
    korean.choose_language("ko")
    english.choose_language("en")
    korean.answer(1, 70)
    english.answer(1, 30)
    for _ in range(2):  # the second time from the process's fragments
        ko_page = korean.client.get("/tablet/question/1").text
        en_page = english.client.get("/tablet/question/1").text
        assert (
            "오늘 일상생활을" in ko_page
            and "시간이 더 필요합니다" in ko_page
            and "Today, which" not in ko_page
        )
        assert (
            "Today, which sentence" in en_page
            and "I need more time" in en_page
            and "오늘 일상생활을" not in en_page
        )
        assert 'value="70" checked' in ko_page and ko_page.count("checked") == 1
        assert 'value="30" checked' in en_page and en_page.count("checked") == 1
        assert "data-next disabled" not in ko_page and "data-next disabled" not in en_page
    assert "checked" not in korean.client.get("/tablet/question/2").text


def test_an_answer_moves_the_sessions_last_activity_at_most_once_a_minute(world, client):
    tablet, visit = handed_over(world, client)
    tablet.choose_language("ko")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with world.session() as s:
        questionnaire = s.exec(
            select(QuestionnaireSession).where(QuestionnaireSession.visit_id == visit.id)
        ).one()
        questionnaire.last_activity_at = an_hour_ago
        s.add(questionnaire)
        s.commit()
    tablet.answer(1, 70)
    with world.session() as s:
        moved = s.exec(select(QuestionnaireSession).where(QuestionnaireSession.visit_id == visit.id)).one()
        assert moved.last_activity_at > an_hour_ago + timedelta(minutes=59)
    tablet.answer(2, 5)
    with world.session() as s:
        again = s.exec(select(QuestionnaireSession).where(QuestionnaireSession.visit_id == visit.id)).one()
        assert again.last_activity_at == moved.last_activity_at
