"""The trail guards the data (issue 12): a keyed chain, anchors outside the database, and a replay of the
trail against the tables. Each tamper case an attacker with write access to the database could try must
make `flask --app epro audit verify` exit non-zero and name the row. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from epro import db
from epro.audit import SYSTEM, ChainHead, chain_head, in_trail, record, settings_for
from epro.audit import anchors as anchor_file
from epro.models import AuditEvent, AuditRedaction, QuestionnaireSession, Response, Visit
from tests.audit_helpers import answered_visit, audit_verify
from tests.conftest import sign_in
from tests.databases import tamper_with_audit_trail
from tests.gunicorn_harness import app_env, flask_cli


def _url(app) -> str:  # type: ignore[no-untyped-def]
    return app.extensions["epro_engine"].url.render_as_string(hide_password=False)


def _sql(app, statement: str, **params: object) -> None:  # type: ignore[no-untyped-def]
    """Change a clinical table behind the application's back (no guards there to switch off)."""
    engine = sa.create_engine(_url(app))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def _first_answer(world) -> Response:  # type: ignore[no-untyped-def]
    with world.session() as s:
        return s.exec(select(Response).order_by(Response.id)).first()


def _events(world) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with world.session() as s:
        return list(s.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def _failed(result, *named: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    for text in named:
        assert text in result.output, result.output


def test_an_intact_trail_verifies_with_its_key_and_anchors(app, world, client):
    answered_visit(world, client)
    result = audit_verify(app)
    assert result.exit_code == 0, result.output
    assert (
        "keyed hashes checked; anchors match; every replayed row equals its last audited event"
        in result.output
    )
    with world.session() as s:
        head = chain_head(s)
    assert head is not None and f"newest id {head.event_id}, newest hash {head.hash}" in result.output
    lines = anchor_file.read(Path(app.config["AUDIT_ANCHOR_FILE"]))
    assert lines[-1].last_id == head.event_id and lines[-1].head == head.hash, "the last commit was anchored"
    with world.session() as s:
        assert in_trail(s, head)
        assert not in_trail(s, ChainHead(head.event_id, "0" * 64))
    key_file = Path(app.config["AUDIT_KEY_FILE"])
    assert key_file.stat().st_mode & 0o777 == 0o600
    with world.session() as s:
        keys = set(s.exec(select(AuditEvent.key_id)).all())
    assert len(keys) == 1 and None not in keys, "every new event is keyed"
    assert key_file.read_text().strip() not in json.dumps([e.model_dump(mode="json") for e in _events(world)])


def test_editing_an_answer_row_is_named(app, world, client):
    answered_visit(world, client)
    answer = _first_answer(world)
    _sql(app, "UPDATE response SET value = 100 WHERE id = :id", id=answer.id)
    _failed(
        audit_verify(app), f"response id {answer.id}: value is '100' but its last audited event says '80'"
    )


def test_deleting_an_answer_row_is_named(app, world, client):
    answered_visit(world, client)
    answer = _first_answer(world)
    creator = next(
        e for e in _events(world) if e.action == "response.submit" and e.entity_id == str(answer.id)
    )
    _sql(app, "DELETE FROM response WHERE id = :id", id=answer.id)
    _failed(
        audit_verify(app),
        f"response id {answer.id}: the row is gone, but audit event id {creator.id} created it",
    )


def test_editing_a_visit_status_or_session_state_is_named(app, world, client):
    visit_id = answered_visit(world, client)
    with world.session() as s:
        session_id = s.exec(select(QuestionnaireSession.id)).one()
        other = s.exec(select(Visit.id).where(Visit.id != visit_id)).first()
    _sql(
        app,
        "UPDATE questionnaire_session SET state = 'cancelled', submitted_at = NULL WHERE id = :id",
        id=session_id,
    )
    _sql(
        app,
        "UPDATE visit SET missed_at = :at, missed_reason = 'x' WHERE id = :id",
        at=datetime.now(UTC).replace(tzinfo=None),
        id=other,
    )
    _failed(
        audit_verify(app),
        f"questionnaire_session id {session_id}: state is 'cancelled' but its last audited event says 'submitted'",
        f"visit id {other}: status is 'missed' but its last audited event says None",
    )


def test_cutting_the_last_rows_of_the_trail_is_named(app, world, client):
    answered_visit(world, client)
    events = _events(world)
    last = events[-1]
    tamper_with_audit_trail(_url(app), "DELETE FROM audit_event WHERE id > :id", id=events[-4].id)
    _failed(
        audit_verify(app),
        f"audit_event id {last.id}: anchor line",
        "has no such event: its newest rows were cut off",
    )


def _v1_hash(row: dict) -> str:  # type: ignore[type-arg]
    payload = [
        row[k]
        for k in (
            "prev_hash",
            "at",
            "actor_type",
            "actor_id",
            "actor_name",
            "action",
            "entity",
            "entity_id",
            "field",
            "old_value",
            "new_value",
            "reason",
        )
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def test_rehashing_the_chain_from_an_edited_row_without_the_key_is_named(app, world, client):
    """The forger edits an answer and its event, then re-chains every later row with plain SHA-256 (the
    only hash one can compute without the key file)."""
    answered_visit(world, client)
    answer = _first_answer(world)
    events = _events(world)
    start = next(
        i for i, e in enumerate(events) if e.action == "response.submit" and e.entity_id == str(answer.id)
    )
    previous = events[start - 1].hash
    updates = []
    for event in events[start:]:
        row = event.model_dump()
        row["at"] = event.at.isoformat()
        if event.id == events[start].id:
            row["new_value"] = "100"
        row["prev_hash"] = previous
        row["hash"] = previous = _v1_hash(row)
        updates.append(row)
    for row in updates:
        tamper_with_audit_trail(
            _url(app),
            "UPDATE audit_event SET new_value = :new_value, prev_hash = :prev_hash, hash = :hash, key_id = NULL "
            "WHERE id = :id",
            **{k: row[k] for k in ("new_value", "prev_hash", "hash", "id")},
        )
    _sql(app, "UPDATE response SET value = 100 WHERE id = :id", id=answer.id)
    result = audit_verify(app)
    _failed(result, f"BROKEN at audit event id {events[start].id}", "re-hashed by someone without the key")
    assert f"audit_event id {events[-1].id}: anchor line" in result.output, "the anchor no longer matches"

    # Keeping the key id and guessing a key does not help either.
    guessed = hmac.new(b"guess", b"x", hashlib.sha256).hexdigest()
    tamper_with_audit_trail(
        _url(app),
        "UPDATE audit_event SET key_id = :key, hash = :hash WHERE id = :id",
        key=events[0].key_id,
        hash=guessed,
        id=events[start].id,
    )
    _failed(audit_verify(app), f"BROKEN at audit event id {events[start].id}: its content no longer matches")


def test_an_appended_forged_investigator_correction_is_named(app, world, client):
    """A correctly chained 'response.correct' event appended at the end, with the answer row changed to
    match: without the key its hash cannot be right."""
    answered_visit(world, client)
    answer = _first_answer(world)
    head = _events(world)[-1]
    at = datetime.now(UTC).replace(tzinfo=None)
    row = {
        "at": at.isoformat(),
        "actor_type": "staff",
        "actor_id": 2,
        "actor_name": "investigator",
        "action": "response.correct",
        "entity": "response",
        "entity_id": str(answer.id),
        "field": f"{answer.instrument_code}.{answer.item_code}",
        "old_value": "80",
        "new_value": "100",
        "reason": "investigator corrected",
        "prev_hash": head.hash,
    }
    row["hash"] = _v1_hash(row)
    for key_id, problem in (
        (head.key_id, "its content no longer matches"),
        (None, "unkeyed hash after keyed"),
    ):
        engine = sa.create_engine(_url(app))
        with engine.begin() as connection:
            inserted = connection.execute(
                sa.text(
                    "INSERT INTO audit_event (at, actor_type, actor_id, actor_name, action, entity, entity_id, "
                    "field, old_value, new_value, reason, prev_hash, hash, key_id) VALUES (:at, :actor_type, "
                    ":actor_id, :actor_name, :action, :entity, :entity_id, :field, :old_value, :new_value, "
                    ":reason, :prev_hash, :hash, :key_id) RETURNING id"
                ),
                {**row, "at": at, "key_id": key_id},
            ).scalar_one()
            connection.execute(
                sa.text(
                    "UPDATE response SET value = 100, corrected_at = :at, correction_reason = :reason WHERE id = :id"
                ),
                {"at": at, "reason": row["reason"], "id": answer.id},
            )
        engine.dispose()
        _failed(audit_verify(app), f"BROKEN at audit event id {inserted}", problem)
        tamper_with_audit_trail(_url(app), "DELETE FROM audit_event WHERE id = :id", id=inserted)
        _sql(
            app,
            "UPDATE response SET value = 80, corrected_at = NULL, correction_reason = NULL WHERE id = :id",
            id=answer.id,
        )
    assert audit_verify(app).exit_code == 0, "undoing the forgery leaves a trail that verifies again"


def test_a_row_without_its_creating_event_is_named(app, world, client):
    answered_visit(world, client)
    answer = _first_answer(world)
    with world.session() as s:
        visit = s.get(Visit, answer.visit_id)
        session_id = s.exec(select(QuestionnaireSession.id)).one()
    _sql(
        app,
        "INSERT INTO questionnaire_session (token, visit_id, state, entered_by, started_by_id, started_at, "
        "last_activity_at) VALUES ('forged-token', :visit, 'cancelled', 'patient', 1, :at, :at)",
        visit=visit.id,
        at=datetime.now(UTC).replace(tzinfo=None),
    )
    with world.session() as s:
        forged = s.exec(select(QuestionnaireSession.id).where(QuestionnaireSession.id != session_id)).one()
    _failed(audit_verify(app), f"questionnaire_session id {forged}: no audit event created this row")


# --- the key: kept outside the database, losing it loses no data -----------------------------------


def test_a_trail_from_before_the_key_still_verifies(app, world):
    """Unkeyed events (plain SHA-256, key_id NULL) at the start of the trail, keyed ones after them."""
    previous = "0" * 64
    with world.session() as s:
        for number in range(3):
            event = AuditEvent(
                at=datetime.now(UTC),
                actor_type="system",
                actor_name="cli",
                action="patient.update",
                entity="patient",
                field="note",
                new_value=f"old {number}",
                prev_hash=previous,
                hash="",
            )
            row = event.model_dump()
            row["at"] = event.at.isoformat()
            event.hash = previous = _v1_hash(row)
            s.add(event)
            s.commit()
    world.staff("nurse1", "nurse")
    result = audit_verify(app)
    assert result.exit_code == 0, result.output
    assert "keyed hashes checked" in result.output
    assert "no audit event" not in result.output


def test_losing_the_key_loses_no_data_and_verify_says_what_it_could_not_check(app, world, client, tmp_path):
    answered_visit(world, client)
    Path(app.config["AUDIT_KEY_FILE"]).unlink()
    from epro import create_app

    # The next start makes a new key; the old events stay, their links are still checked.
    restarted = create_app(
        {
            **{
                k: app.config[k]
                for k in ("TESTING", "SECRET_KEY", "DATABASE_URL", "AUDIT_KEY_FILE", "AUDIT_ANCHOR_FILE")
            }
        }
    )
    result = audit_verify(restarted)
    restarted.extensions["epro_engine"].dispose()
    assert result.exit_code == 0, result.output
    assert "which is not available" in result.output
    assert "their content could NOT be checked against the key" in result.output
    assert "keyed hashes of" in result.output and "NOT checked" in result.output
    assert _first_answer(world).value == 80


# --- redaction ----------------------------------------------------------------------------------------


def _redact(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["audit", "redact", *args])


def test_an_admin_redacts_a_reason_and_the_trail_still_verifies(app, world, client):
    world.staff("boss", "admin", language="en")
    world.staff("nurse1", "nurse")
    with app.app_context(), db.unit_of_work() as s:
        mistaken = record(
            s,
            SYSTEM,
            "patient.update",
            "patient",
            None,
            field="note",
            new="x",
            reason="called Hong Gildong at 010-1234-5678",
        ).id
    refused = _redact(app, str(mistaken), "reason", "--reason", "personal data", "--admin", "nurse1")
    assert refused.exit_code != 0 and "not an active admin account" in refused.output
    result = _redact(
        app, str(mistaken), "reason", "--reason", "personal data entered by mistake", "--admin", "boss"
    )
    assert result.exit_code == 0, result.output
    assert "still verifies" in result.output
    with world.session() as s:
        event = s.get(AuditEvent, mistaken)
        assert event.reason is None
        redaction = s.exec(select(AuditRedaction)).one()
        assert redaction.field == "reason" and "Gildong" not in redaction.text_digest
        last = s.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (last.action, last.entity_id, last.field, last.new_value) == (
        "audit.redact",
        str(mistaken),
        "reason",
        redaction.text_digest,
    )
    assert last.actor_name == "boss" and last.reason == "personal data entered by mistake"
    assert "Gildong" not in json.dumps([e.model_dump(mode="json") for e in _events(world)])
    verified = audit_verify(app)
    assert verified.exit_code == 0, verified.output

    again = _redact(app, str(mistaken), "reason", "--reason", "again", "--admin", "boss")
    assert again.exit_code != 0 and "already redacted" in again.output

    sign_in(client, "boss")
    page = client.get("/staff/audit/?action=patient.update")
    assert "(removed: personal data entered by mistake)" in page.text and "Gildong" not in page.text
    assert "Audit entry redacted" in client.get("/staff/audit/?action=audit.redact").text


def test_the_database_allows_no_other_change_to_an_event(app, world):
    world.staff("nurse1", "nurse")
    with world.session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.new_value.is_not(None))).first()
    engine = sa.create_engine(_url(app))
    try:
        for statement in (
            "UPDATE audit_event SET new_value = NULL WHERE id = :id",  # no redaction row
            "UPDATE audit_event SET new_value = 'other' WHERE id = :id",
        ):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
                connection.execute(sa.text(statement), {"id": event.id})
    finally:
        engine.dispose()


def test_a_redaction_row_without_its_event_is_named(app, world):
    """Someone who blanks a text and adds a redaction row by hand cannot add the keyed audit.redact event."""
    world.staff("nurse1", "nurse")
    with world.session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.new_value.is_not(None))).first()
    key = settings_for(world.session()).key
    from epro.audit import text_digest

    _sql(
        app,
        "INSERT INTO audit_redaction (event_id, field, text_digest, reason, redacted_at) "
        "VALUES (:id, 'new_value', :digest, 'hidden', :at)",
        id=event.id,
        digest=text_digest(key, event.new_value),
        at=datetime.now(UTC).replace(tzinfo=None),
    )
    tamper_with_audit_trail(_url(app), "UPDATE audit_event SET new_value = NULL WHERE id = :id", id=event.id)
    with world.session() as s:
        redaction_id = s.exec(select(AuditRedaction.id)).one()
    _failed(audit_verify(app), f"audit_redaction id {redaction_id}: no audit event created this row")


# --- the acceptance case: a copy of the demo database, through the real command ----------------------


@pytest.mark.sqlite_only(reason="the demo database and sqlite3 on a copy of it")
def test_changing_one_answer_in_a_copy_of_the_demo_database_failsaudit_verify(app, tmp_path):
    from epro import demo
    from epro.clock import clinic_today, clinic_zone
    from epro.schedule import load_protocol

    with app.app_context(), db.unit_of_work() as s:
        demo.seed(s, load_protocol("default"), clinic_today(), clinic_zone())
    live = Path(app.extensions["epro_engine"].url.database)
    copy = tmp_path / "copy.sqlite3"
    with closing(sqlite3.connect(live)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    settings = {
        "AUDIT_KEY_FILE": app.config["AUDIT_KEY_FILE"],
        "AUDIT_ANCHOR_FILE": app.config["AUDIT_ANCHOR_FILE"],
    }
    intact = flask_cli(app_env(f"sqlite:///{copy}", **settings), "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    with closing(sqlite3.connect(copy)) as forged:
        answer_id, value = forged.execute("SELECT id, value FROM response ORDER BY id LIMIT 1").fetchone()
        forged.execute(
            "UPDATE response SET value = :v WHERE id = :id",
            {"v": 100 if value != 100 else 90, "id": answer_id},
        )
        forged.commit()
    result = flask_cli(app_env(f"sqlite:///{copy}", **settings), "audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"response id {answer_id}: value is" in result.stderr
    assert os.path.exists(settings["AUDIT_ANCHOR_FILE"])


# --- the registry: other features plug their tables in ------------------------------------------------


def test_a_feature_registers_its_table_for_the_replay(app, world):
    """A table of another feature, replayed through a registered entry: intact, then edited behind the
    app's back (named), then a row without its event (named). Numbers compare in one spelling."""
    from epro.audit import replay

    engine = sa.create_engine(_url(app))
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE probe_value (id INTEGER PRIMARY KEY, code VARCHAR(16), amount NUMERIC(12, 4))"
            )
        )
        connection.execute(sa.text("INSERT INTO probe_value (id, code, amount) VALUES (1, 'ALB', 3.5)"))
    engine.dispose()
    with app.app_context(), db.unit_of_work() as s:
        record(s, SYSTEM, "probe.enter", "probe_value", 1, field="ALB", new="3.50")

    def rows(session):  # type: ignore[no-untyped-def]
        for row_id, code, amount in session.execute(
            sa.text("SELECT id, code, amount FROM probe_value")
        ).all():
            yield replay.Row(row_id, str(row_id), {"code": code, "amount": replay.number_text(amount)})

    def says(event):  # type: ignore[no-untyped-def]
        return (
            {"code": event.field, "amount": replay.number_text(event.new_value)}
            if event.action == "probe.enter"
            else {}
        )

    replay.register(replay.Replayable("probe_value", "probe_value", rows, frozenset({"probe.enter"}), says))
    try:
        assert audit_verify(app).exit_code == 0
        _sql(app, "UPDATE probe_value SET amount = 4.1 WHERE id = 1")
        _sql(app, "INSERT INTO probe_value (id, code, amount) VALUES (2, 'BILI', 1)")
        _failed(
            audit_verify(app),
            "probe_value id 1: amount is '4.1' but its last audited event says '3.5'",
            "probe_value id 2: no audit event created this row",
        )
    finally:
        replay.unregister("probe_value")


# --- restore checks the backup first --------------------------------------------------------------------


def _copy_with(good: Path, target: Path, *statements: str) -> Path:
    target.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(target)) as forged:
        for name in [r[0] for r in forged.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]:
            forged.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            forged.execute(statement)
        forged.commit()
    return target


@pytest.mark.sqlite_only(reason="backup and restore of a SQLite file")
def test_restore_refuses_a_backup_that_does_not_verify_and_says_how_the_key_travels(
    app, world, client, tmp_path
):
    answered_visit(world, client)
    runner = app.test_cli_runner()
    good = tmp_path / "good.sqlite3"
    taken = runner.invoke(args=["backup", str(good)])
    assert taken.exit_code == 0, taken.output
    assert (
        "The audit key is NOT in the backup" in taken.output and app.config["AUDIT_KEY_FILE"] in taken.output
    )
    answer = _first_answer(world)
    with closing(sqlite3.connect(good)) as copy:
        last = copy.execute("SELECT max(id) FROM audit_event").fetchone()[0]
    edited = _copy_with(
        good, tmp_path / "edited.sqlite3", f"UPDATE response SET value = 100 WHERE id = {answer.id}"
    )
    cut = _copy_with(good, tmp_path / "cut.sqlite3", f"DELETE FROM audit_event WHERE id > {last - 2}")
    for bad, named in (
        (edited, f"response id {answer.id}: value is '100'"),
        (cut, f"audit_event id {last - 2}: this trail ends at an event the app never anchored"),
    ):
        result = runner.invoke(args=["restore", str(bad), "--yes"])
        assert result.exit_code != 0, result.output
        assert named in result.output and "Nothing was changed" in result.output, result.output
    assert not list(tmp_path.glob("*.before-restore-*"))

    # The key lost (a new one made): the backup's events cannot be checked; refused unless asked for.
    key_file = Path(app.config["AUDIT_KEY_FILE"])
    kept_key = key_file.read_text()
    key_file.write_text(os.urandom(32).hex() + "\n")
    refused = runner.invoke(args=["restore", str(good), "--yes"])
    assert refused.exit_code != 0 and "--skip-key-check" in refused.output, refused.output
    key_file.write_text(kept_key)

    restored = runner.invoke(args=["restore", str(good), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert (
        "verified: chain, anchors and replay" in restored.output
        and "it is the backup written at" in restored.output
    )
    assert "The audit key is NOT in the backup" in restored.output
    after = audit_verify(app)
    assert after.exit_code == 0, after.output


def test_the_check_page_names_the_row_in_the_readers_language(app, world, client):
    answered_visit(world, client)
    world.staff("monitor", "investigator")
    world.staff("boss", "admin", language="en")
    answer = _first_answer(world)
    _sql(app, "UPDATE response SET value = 100 WHERE id = :id", id=answer.id)
    sign_in(client, "monitor")
    page = client.get("/staff/audit/verify").text
    assert "감사 추적 기록과 데이터가 일치하지 않습니다" in page
    assert f"response 기록 {answer.id}이(가) 감사 추적 기록과 일치하지 않습니다" in page
    sign_in(client, "boss")
    page = client.get("/staff/audit/verify").text
    assert f"Record response {answer.id} does not match its audit trail." in page


def test_an_event_written_without_the_app_after_keyed_ones_is_named(app, world):
    """A script with its own engine (no app, so no key) writes an unkeyed event: verify names it."""
    from sqlmodel import Session

    world.staff("nurse1", "nurse")
    engine = sa.create_engine(_url(app))
    try:
        with Session(engine) as s:
            stray = record(s, SYSTEM, "patient.update", "patient", None, field="note", new="from a script")
            s.commit()
            assert stray.key_id is None
            stray_id = stray.id
    finally:
        engine.dispose()
    _failed(audit_verify(app), f"BROKEN at audit event id {stray_id}", "unkeyed hash after keyed rows")


def test_signatures_and_clinical_values_replay_and_a_moved_signature_is_named(app, world, client):
    """The replay reads the signature and clinical_value tables as the features write them: an intact trail
    with a signature and a laboratory value verifies; a signature moved to other data does not."""
    from decimal import Decimal

    from epro.audit import Actor
    from epro.clinical import operations as clinical_ops
    from epro.clinical.measures import load_measure_set
    from tests.signing_helpers import answered_patient, sign, signed_in_investigator

    patient = answered_patient(world)
    other = answered_patient(world, "EPR-102", (50, 3, 3))
    nurse = Actor("staff", world.staff("nurse-lab", "nurse"), "nurse-lab")
    visit_id = world.visit(patient, "BL").id
    with app.app_context(), db.unit_of_work() as s:
        visit = s.get(Visit, visit_id)
        liver = load_measure_set("liver-1.0")
        clinical_ops.enter_value(
            s,
            nurse,
            visit,
            liver,
            liver.get("ALB"),
            Decimal("3.1"),
            world.today(),
            confirmed=False,
            today=world.today(),
        )
    signed_in_investigator(world, client)
    assert sign(client, patient.id).status_code == 302
    assert audit_verify(app).exit_code == 0, audit_verify(app).output
    with world.session() as s:
        signature_id = s.exec(sa.text("SELECT id FROM signature")).one()[0]
    _sql(app, "UPDATE signature SET patient_id = :other WHERE id = :id", other=other.id, id=signature_id)
    _failed(audit_verify(app), f"signature id {signature_id}")
