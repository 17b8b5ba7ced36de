"""The audit trail: hash-chained, append-only in the database, verifiable, readable by monitors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from epro import db
from epro.audit import SYSTEM, record
from epro.models import AuditEvent
from tests.audit_helpers import audit_verify
from tests.conftest import sign_in
from tests.databases import tamper_with_audit_trail
from tests.kiosk_helpers import Tablet


def _activity(world, client) -> int:  # type: ignore[no-untyped-def]
    """A morning at the clinic: staff accounts, a patient, a failed and a good sign-in, a questionnaire."""
    world.staff("nurse1", "nurse")
    world.staff("monitor", "investigator")
    visit = world.visit(world.patient("EPR-101"), "BL")
    assert sign_in(client, "nurse1", "wrong password").status_code == 401
    tablet = Tablet(client)
    tablet.start("nurse1", visit.id)
    tablet.complete("en", (80, 6, 5))
    return visit.id


def _tamper(app, statement: str, **params: object) -> None:  # type: ignore[no-untyped-def]
    """Change the trail behind the application's back (guards switched off), on either database."""
    url = app.extensions["epro_engine"].url.render_as_string(hide_password=False)
    tamper_with_audit_trail(url, statement, **params)


def test_verify_reports_an_intact_chain_after_real_activity(app, world, client):
    _activity(world, client)
    result = audit_verify(app)
    assert result.exit_code == 0, result.output
    events = world.audit_count()
    assert events > 10
    assert f"intact: {events} events" in result.output


def test_verify_names_a_row_altered_behind_the_apps_back(app, world, client):
    _activity(world, client)
    with world.session() as s:
        answer = s.exec(select(AuditEvent).where(AuditEvent.action == "response.submit")).first()
    _tamper(app, "UPDATE audit_event SET new_value = '100' WHERE id = :id", id=answer.id)
    result = audit_verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event id {answer.id}" in result.output
    assert "changed" in result.output


def test_verify_names_the_row_after_one_deleted_behind_the_apps_back(app, world, client):
    _activity(world, client)
    with world.session() as s:
        ids = s.exec(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    victim, follower = ids[3], ids[4]
    _tamper(app, "DELETE FROM audit_event WHERE id = :id", id=victim)
    result = audit_verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event id {follower}" in result.output
    assert "removed" in result.output
    assert "3 events before it are intact" in result.output


def test_a_forger_without_the_key_cannot_rehash_a_row(app, world, client):
    """Someone who rewrites a row and recomputes its hash as plain SHA-256 (the key is not in the
    database) is caught at that very row."""
    _activity(world, client)
    import hashlib

    with world.session() as s:
        rows = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    target = rows[5]
    forged_hash = hashlib.sha256(f"{target.prev_hash}forged".encode()).hexdigest()
    _tamper(
        app,
        "UPDATE audit_event SET new_value = 'forged', hash = :hash WHERE id = :id",
        hash=forged_hash,
        id=target.id,
    )
    result = audit_verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at audit event id {target.id}" in result.output


def test_the_application_cannot_update_or_delete_an_audit_row(app, world, client):
    _activity(world, client)
    before = world.audit_count()
    with world.session() as s:
        event = s.exec(select(AuditEvent).order_by(AuditEvent.id)).first()
        event_id, original = event.id, event.new_value
        event.new_value = "tampered"
        s.add(event)
        with pytest.raises(DatabaseError, match="append-only"):
            s.commit()
        s.rollback()
        s.delete(s.get(AuditEvent, event_id))
        with pytest.raises(DatabaseError, match="append-only"):
            s.commit()
        s.rollback()
    with app.app_context(), pytest.raises(DatabaseError, match="append-only"), db.unit_of_work() as s:
        s.exec(AuditEvent.__table__.delete())  # type: ignore[attr-defined]
    with world.session() as s:
        assert s.get(AuditEvent, event_id).new_value == original
    assert world.audit_count() == before
    assert audit_verify(app).exit_code == 0


# --- the trail in the UI -------------------------------------------------------------------------


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_only_admins_and_investigators_see_the_trail(world, client):
    world.staff("nurse1", "nurse")
    world.staff("monitor", "investigator")
    world.staff("boss", "admin")
    assert "/staff/login" in client.get("/staff/audit/").location
    sign_in(client, "nurse1")
    assert 'href="/staff/audit/"' not in client.get("/staff/").text
    assert client.get("/staff/audit/").status_code == 403
    assert client.get("/staff/audit/verify").status_code == 403
    for user in ("monitor", "boss"):
        sign_in(client, user)
        home = client.get("/staff/").text
        assert '<a href="/staff/audit/">변경 이력</a>' in home, "in the menu"
        assert client.get("/staff/audit/").status_code == 200
        assert client.get("/staff/audit/verify").status_code == 200


def test_sign_ins_and_answers_read_sensibly_in_korean(world, client):
    _activity(world, client)
    sign_in(client, "monitor")
    page = client.get("/staff/audit/")
    assert page.status_code == 200 and '<html lang="ko">' in page.text
    rows = _rows(page.text)
    assert rows, "the trail lists events"
    text = "\n".join(rows)
    assert "로그인 실패" in text and "입력한 이름: nurse1" in text
    assert "로그인" in text
    assert "응답 제출" in text and "EPR-101 · " in text, "answers name the study ID and visit"
    assert "PS.PS1" in text and ">80<" in text
    assert "auth.sign_in" not in text, "codes are shown as words"
    verify = client.get("/staff/audit/verify")
    assert "무결" in verify.text and str(world.audit_count()) in verify.text


def test_the_trail_reads_in_english_for_an_english_speaking_admin(world, client):
    _activity(world, client)
    world.staff("boss", "admin", language="en")
    sign_in(client, "boss")
    page = client.get("/staff/audit/?action=auth.sign_in_failed")
    rows = _rows(page.text)
    assert len(rows) == 1
    assert "Sign-in failed" in rows[0] and "Not signed in, typed: nurse1" in rows[0]


def test_filters_by_action_record_actor_and_dates(world, client):
    _activity(world, client)
    sign_in(client, "monitor")
    submitted = _rows(client.get("/staff/audit/?action=response.submit").text)
    assert len(submitted) == 3 and all("응답 제출" in row for row in submitted)
    staff_rows = _rows(client.get("/staff/audit/?entity=staff_user").text)
    assert staff_rows and all("의료진 계정" in row for row in staff_rows)
    by_nurse = _rows(client.get("/staff/audit/?actor=NURSE").text)
    assert by_nurse and all("nurse1" in row for row in by_nurse)
    assert not any("monitor" in row for row in by_nurse)
    today = world.today()
    assert len(_rows(client.get(f"/staff/audit/?date_from={today}&date_to={today}").text)) == min(
        world.audit_count(), 50
    )
    last_week = today - timedelta(days=7)
    past = client.get(f"/staff/audit/?date_from={last_week}&date_to={last_week}")
    assert _rows(past.text) == [] and "조건에 맞는 기록이 없습니다" in past.text
    # Wildcards typed into the actor box are plain characters, not patterns.
    assert _rows(client.get("/staff/audit/?actor=%25").text) == []


def test_the_trail_is_paginated_and_pages_keep_the_filters(app, world, client):
    world.staff("monitor", "investigator")
    with app.app_context(), db.unit_of_work() as s:
        for number in range(120):
            record(s, SYSTEM, "patient.update", "patient", None, field="note", new=f"n{number}")
    sign_in(client, "monitor")
    first = client.get("/staff/audit/?action=patient.update")
    assert len(_rows(first.text)) == 50 and "n119" in first.text
    assert "120건" in first.text and "3쪽 중 1쪽" in first.text
    older = re.search(r'rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert "action=patient.update" in older and "page=2" in older
    second = client.get(older)
    assert len(_rows(second.text)) == 50 and "n69" in second.text and "n70" not in second.text
    third = client.get("/staff/audit/?action=patient.update&page=3")
    assert len(_rows(third.text)) == 20 and 'rel="next"' not in third.text
    assert _rows(client.get("/staff/audit/?action=patient.update&page=4").text) == []


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2024-13-45",
        "date_from=yesterday",
        "date_from=2025-02-01&date_to=2025-01-01",
        "page=0",
        "page=-1",
        "page=abc",
        "page=99999999999999999999",
        "action=<script>",
        "entity=x%27%20OR%201=1--",
        "actor=" + "x" * 65,
        "actor=a%00b",
    ],
)
def test_unusable_filters_get_a_translated_400_and_no_rows(world, client, query):
    world.staff("monitor", "investigator")
    sign_in(client, "monitor")
    page = client.get(f"/staff/audit/?{query}")
    assert page.status_code == 400
    assert "고쳐 주십시오" in page.text
    assert _rows(page.text) == []


def test_hostile_text_in_the_trail_is_shown_escaped(world, client):
    world.staff("monitor", "investigator")
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert sign_in(client, hostile, "whatever").status_code == 401
    sign_in(client, "monitor")
    page = client.get("/staff/audit/?actor=" + "%3Cscript%3E")
    assert page.status_code == 200
    assert len(_rows(page.text)) == 1
    assert "&lt;script&gt;alert(" in page.text
    assert "<script>alert(" not in page.text and "<img src=x" not in page.text
    assert 'value="&lt;script&gt;"' in page.text, "the filter box echoes the text escaped"
