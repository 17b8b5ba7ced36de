"""TS: the trial summary parameters the package can state from the protocol file and the settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from epro.models import Patient
from epro.schedule import Protocol
from epro.sdtm.common import StudyFacts

#: TSVCDREF of controlled values (their NCI codes in TSVALCD).
CT = "CDISC CT"
CT_VERSION = "2024-03-29"


def ts_rows(db: Session, facts: StudyFacts, protocol: Protocol, cutoff: date) -> Iterator[dict[str, object]]:
    """Parameters as (TSPARMCD, TSPARM, TSVAL, TSVALCD, TSVCDREF): values the protocol and settings state."""
    first_day0 = db.exec(select(func.min(Patient.procedure_date))).one()
    last_day = max(v.day for v in protocol.visits)
    parameters: list[tuple[str, str, str, str | None, str | None]] = [
        ("TITLE", "Trial Title", facts.title, None, None),
        ("SDTIGVER", "SDTM IG Version", "3.4", None, None),
        ("SDTMVER", "SDTM Version", "2.0", None, None),
        ("STYPE", "Study Type", "INTERVENTIONAL", "C98388", CT),
        ("NARMS", "Planned Number of Arms", "1", None, None),
        ("RANDOM", "Trial is Randomized", "N", "C49487", CT),
        ("TBLIND", "Trial Blinding Schema", "OPEN LABEL", "C49659", CT),
        ("TCNTRL", "Control Type", "NONE", "C41132", CT),
        ("SEXPOP", "Sex of Participants", "BOTH", "C49636", CT),
        ("ADDON", "Added on to Existing Treatments", "Y", "C49488", CT),
        ("LENGTH", "Trial Length", f"P{last_day}D", None, None),
        (
            "FCNTRY",
            "Planned Country of Investigational Sites",
            facts.country,
            facts.country,
            "ISO 3166-1 alpha-3",
        ),
        ("DCUTDTC", "Data Cutoff Date", cutoff.isoformat(), None, "ISO 8601"),
        ("DCUTDESC", "Data Cutoff Description", "DATE OF EXPORT", None, None),
    ]
    if first_day0 is not None:
        parameters.append(("STSTDTC", "Study Start Date", first_day0.isoformat(), None, "ISO 8601"))
    if facts.sponsor:
        parameters.append(("SPONSOR", "Clinical Study Sponsor", facts.sponsor, None, None))
    for code, name, value, value_code, reference in parameters:  # one value each: TSSEQ 1
        yield {
            "STUDYID": facts.studyid,
            "DOMAIN": "TS",
            "TSSEQ": 1,
            "TSPARMCD": code,
            "TSPARM": name,
            "TSVAL": value,
            "TSVALNF": None,
            "TSVALCD": value_code,
            "TSVCDREF": reference,
            "TSVCDVER": CT_VERSION if reference == CT else None,
        }
