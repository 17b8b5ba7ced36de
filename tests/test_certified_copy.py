"""PDF/A-3b summaries with the data attached, and the certified-copy bundle with its verify command."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject
from sqlmodel import Session, select

from epro import db, demo
from epro.catalog import sync_instruments
from epro.clock import clinic_today, clinic_zone
from epro.models import AuditEvent, Patient
from epro.schedule import load_protocol
from tests.conftest import csrf_of, sign_in
from tests.signing_helpers import answered_patient, correct, sign, signed_in_investigator

XMP = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def _download_summary(client, patient_id: int, lang: str) -> bytes:  # type: ignore[no-untyped-def]
    page = client.get(f"/staff/patients/{patient_id}")
    response = client.post(
        f"/reports/patients/{patient_id}/summary", data={"csrf_token": csrf_of(page.text), "lang": lang}
    )
    assert response.status_code == 200, response.text
    return response.data


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _resolve(value):  # type: ignore[no-untyped-def]
    return value.get_object() if isinstance(value, IndirectObject) else value


def _fonts(reader: PdfReader):  # type: ignore[no-untyped-def]
    for page in reader.pages:
        fonts = _resolve(_resolve(page["/Resources"]).get("/Font", {}))
        for font in fonts.values():
            font = _resolve(font)
            if font.get("/Subtype") == "/Type0":
                font = _resolve(font["/DescendantFonts"][0])
            yield font


def test_summary_is_pdfa_3b_tagged_identified_with_embedded_fonts_and_the_data_attached(
    world, client, tmp_path
):
    patient = answered_patient(world)
    signed_in_investigator(world, client)
    pdf = _download_summary(client, patient.id, "en")
    reader = PdfReader(io.BytesIO(pdf))

    # XMP identification: PDF/A-3, conformance B; and the document identifier.
    from xml.etree import ElementTree

    packet = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    rdf = ElementTree.fromstring(packet).find("rdf:RDF", XMP)
    assert rdf is not None
    attributes = {k: v for d in rdf.findall("rdf:Description", XMP) for k, v in d.attrib.items()}
    assert attributes[f"{{{XMP['pdfaid']}}}part"] == "3"
    assert attributes[f"{{{XMP['pdfaid']}}}conformance"] == "B"
    identifier = rdf.find("rdf:Description/dc:identifier", XMP)
    assert identifier is not None and re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", identifier.text or "")
    file_id = reader.trailer["/ID"][0]
    file_id = file_id.decode() if isinstance(file_id, bytes) else str(file_id)
    assert identifier.text.removeprefix("urn:uuid:").replace("-", "") == file_id

    # Tagged for accessibility, with the document's language.
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"] and root["/Lang"] == "en"
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"

    # Every font is embedded.
    fonts = list(_fonts(reader))
    assert fonts
    for font in fonts:
        descriptor = _resolve(font["/FontDescriptor"])
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font.get("/BaseFont")

    # The attachment: the patient's long CSV, related to the document as its data.
    assert list(reader.attachments) == ["data-EPR-101-long.csv"]
    [data] = reader.attachments["data-EPR-101-long.csv"]
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted((r["study_id"], r["visit_code"], r["item_code"], r["value"]) for r in rows) == [
        ("EPR-101", "BL", "PS1", "70"),
        ("EPR-101", "BL", "QOL1", "6"),
        ("EPR-101", "BL", "WB1", "5"),
    ]
    filespecs = {f.idnum: f.get_object() for f in root["/AF"]}  # WeasyPrint lists it twice
    assert len(filespecs) == 1
    [filespec] = filespecs.values()
    assert filespec["/AFRelationship"] == "/Data" and filespec["/F"] == "data-EPR-101-long.csv"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/csv"

    text = _text(pdf, tmp_path)
    assert "Investigator signature" in text and "Not signed yet" in text and identifier.text in text


def test_signed_summary_shows_the_signature_block_and_later_the_change(world, client, tmp_path):
    patient = answered_patient(world)
    signed_in_investigator(world, client, language="ko")
    assert sign(client, patient.id, meaning="approved").status_code == 302
    text = _text(_download_summary(client, patient.id, "ko"), tmp_path)
    assert "연구자 서명" in text and "서명 완료" in text and "승인함" in text
    assert "Kim Jihoon (연구자)" in text and "KST" in text and "UTC" in text

    correct(world, patient, "PS", 90)
    text = _text(_download_summary(client, patient.id, "both"), tmp_path)
    assert "변경으로 서명 무효" in text and "Superseded by a change on" in text


@pytest.fixture
def demo_world(app):  # type: ignore[no-untyped-def]
    with app.app_context(), db.unit_of_work() as s:
        sync_instruments(s)
        demo.seed(s, load_protocol("default"), clinic_today(), clinic_zone())
    return app


def _bundle(app, tmp_path: Path, study_id: str = "EPR-001") -> Path:  # type: ignore[no-untyped-def]
    target = tmp_path / "b.zip"
    result = app.test_cli_runner().invoke(args=["bundle", study_id, "-o", str(target)])
    assert result.exit_code == 0, result.output
    return target


def _verify(app, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["bundle", "verify", str(path), *extra])


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the archive with one member's bytes changed (its ZIP checksum made to match)."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            archive.writestr(name, change(name, data))


def test_demo_bundle_verifies_and_one_flipped_byte_in_the_pdf_is_named(demo_world, tmp_path):
    path = _bundle(demo_world, tmp_path)
    ok = _verify(demo_world, path)
    assert ok.exit_code == 0, ok.output
    assert "holds the chain head" in ok.output and "manifest.json recorded as event" in ok.output

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        info = archive.getinfo("summary-EPR-001-ko.pdf")
        long = list(csv.DictReader(io.StringIO(archive.read("data-EPR-001-long.csv").decode("utf-8-sig"))))
    # The patient's own answers and clinical values (the demo has both), nobody else's.
    assert {row["study_id"] for row in long} == {"EPR-001"}
    assert {row["record_type"] for row in long} == {"answer", "clinical"}
    assert names == ["summary-EPR-001-ko.pdf", "data-EPR-001-long.csv", "audit-EPR-001.csv", "manifest.json"]
    assert manifest["signature"]["status"] == "unsigned"
    with Session(demo_world.extensions["epro_engine"]) as s:
        last = s.exec(
            select(AuditEvent).where(AuditEvent.action != "export.bundle").order_by(AuditEvent.id.desc())
        ).first()  # type: ignore[union-attr]
    assert manifest["audit_chain_head"] == {"event_id": last.id, "hash": last.hash}

    # One flipped byte in the PDF's bytes inside the archive.
    raw = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    raw[info.header_offset + 30 + name_length + extra_length + 1000] ^= 0x01
    path.write_bytes(bytes(raw))
    failed = _verify(demo_world, path)
    assert failed.exit_code != 0 and "summary-EPR-001-ko.pdf" in failed.stderr
    assert "data-EPR-001-long.csv" not in failed.stderr


@pytest.mark.parametrize("member", ["summary-EPR-001-ko.pdf", "data-EPR-001-long.csv", "audit-EPR-001.csv"])
def test_a_changed_byte_in_any_file_fails_verify_and_names_that_file(demo_world, tmp_path, member):
    path = _bundle(demo_world, tmp_path)
    _rewrite(
        path, lambda name, data: data[:-2] + bytes([data[-2] ^ 0x20]) + data[-1:] if name == member else data
    )
    failed = _verify(demo_world, path, "--offline")
    assert failed.exit_code == 1
    assert f"{member}: SHA-256 differs from the manifest" in failed.stderr
    assert failed.stderr.count("FAIL") == 1


def test_a_manifest_rewritten_to_match_edited_files_is_caught_by_the_trail(demo_world, tmp_path):
    path = _bundle(demo_world, tmp_path)

    def forge(name: str, data: bytes) -> bytes:
        return data.replace(b"EPR-001", b"EPR-002") if name.endswith(".csv") else data

    _rewrite(path, forge)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members["manifest.json"])
    for entry in manifest["files"]:
        entry["sha256"] = hashlib.sha256(members[entry["name"]]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert _verify(demo_world, path, "--offline").exit_code == 0  # the files alone cannot tell
    failed = _verify(demo_world, path)
    assert (
        failed.exit_code == 1
        and "manifest.json: its SHA-256 was never recorded in the audit trail" in failed.stderr
    )


def test_extra_or_missing_files_are_named(demo_world, tmp_path):
    path = _bundle(demo_world, tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("extra.txt", b"hello")
    failed = _verify(demo_world, path, "--offline")
    assert failed.exit_code == 1 and "extra.txt: not listed in the manifest" in failed.stderr


def test_investigator_downloads_a_certified_copy_of_one_patient(world, client, app, tmp_path):
    patient = answered_patient(world, "EPR-101")
    answered_patient(world, "EPR-102")
    signed_in_investigator(world, client)
    sign(client, patient.id)
    page = client.get(f"/staff/patients/{patient.id}")
    assert "Download certified copy (.zip)" in page.text
    response = client.post(
        f"/certified/patients/{patient.id}", data={"csrf_token": csrf_of(page.text), "lang": "en"}
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    path = tmp_path / "download.zip"
    path.write_bytes(response.data)
    result = _verify(app, path)
    assert result.exit_code == 0, result.output + result.stderr
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        audit = list(csv.DictReader(io.StringIO(archive.read("audit-EPR-101.csv").decode("utf-8-sig"))))
        long = list(csv.DictReader(io.StringIO(archive.read("data-EPR-101-long.csv").decode("utf-8-sig"))))
    assert manifest["signature"]["status"] == "signed"
    assert manifest["signature"]["signature"]["signer_name"] == "Kim Jihoon"
    assert {row["study_id"] for row in long} == {"EPR-101"}
    with Session(app.extensions["epro_engine"]) as s:
        other = s.exec(select(Patient).where(Patient.study_id == "EPR-102")).one()
    assert ("patient", str(other.id)) not in {(row["entity"], row["entity_id"]) for row in audit}
    assert "signature.sign" in {row["action"] for row in audit}
    with Session(app.extensions["epro_engine"]) as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "export.bundle")).all()
    assert event.actor_name == "inv" and event.entity_id == str(patient.id)

    nurse = app.test_client()
    world.staff("n3", "nurse", "en")
    sign_in(nurse, "n3")
    assert nurse.post(
        f"/certified/patients/{patient.id}", data={"csrf_token": csrf_of(page.text), "lang": "en"}
    ).status_code in (400, 403)
