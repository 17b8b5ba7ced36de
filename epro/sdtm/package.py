"""Write the SDTM package into a folder: <domain>.xpt and <domain>.json for each dataset, and define.xml."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TypedDict

from sqlmodel import Session, select

from epro import db
from epro.audit import SYSTEM, record
from epro.clinical.measures import MeasureSet, measure_set_for
from epro.clock import clinic_today
from epro.models import ProtocolVisit, utcnow
from epro.schedule import Protocol, load_protocol
from epro.sdtm import spec
from epro.sdtm.clinical import clinical_rows
from epro.sdtm.codelists import codelists
from epro.sdtm.common import StudyFacts, is_ascii
from epro.sdtm.define import define_xml
from epro.sdtm.qs import qs_records, suppqs_rows
from epro.sdtm.subjects import dm_rows, ds_rows, sv_rows
from epro.sdtm.tables import Table, dataset_json, write_xpt
from epro.sdtm.trial import ts_rows


@dataclass(slots=True)
class Written:
    folder: Path
    files: list[Path] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    #: (dataset, variable, how many values) holding characters outside ASCII: free text typed in Korean.
    not_ascii: list[tuple[str, str, int]] = field(default_factory=list)
    #: Measure codes with no SDTM home (a sponsor measure added to a measure set), left out of the package.
    left_out: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        lines = [f"{name}: {count} records" for name, count in self.records.items()]
        lines.append(f"Wrote {len(self.files)} files to {self.folder}.")
        for code in self.left_out:
            lines.append(
                f"warning: measure {code} has no SDTM domain (epro/sdtm/clinical.py) and is left out"
            )
        for dataset, variable, count in self.not_ascii:
            lines.append(
                f"warning: {dataset}.{variable} has {count} value(s) that are not ASCII (typed free text); "
                "translate them before submission"
            )
        return lines


def _source_version() -> str:
    try:
        return version("epro")
    except PackageNotFoundError:
        return "unknown"


def protocols_in_use(reader: Session, configured: str) -> list[Protocol]:
    used = reader.exec(select(ProtocolVisit.protocol_code, ProtocolVisit.protocol_version).distinct()).all()
    found = {(p.code, p.version): p for p in (load_protocol(c, v) for c, v in used)}
    default = load_protocol(configured)
    found.setdefault((default.code, default.version), default)
    return sorted(found.values(), key=lambda p: (p.code, p.version))


def measure_sets(protocols: list[Protocol]) -> list[MeasureSet]:
    """The measure sets of the protocols in use (the clinical values' code lists)."""
    found = {}
    for protocol in protocols:
        measure_set = measure_set_for(protocol)
        found[(measure_set.code, measure_set.version)] = measure_set
    return list(found.values())


def build_tables(reader: Session, facts: StudyFacts, protocol: Protocol) -> tuple[list[Table], set[str]]:
    """Every dataset in define.xml's order (spec.DATASETS), and the measure codes left out."""
    records = list(qs_records(reader, facts, "en"))
    clinical = clinical_rows(reader, facts)
    rows = {
        "DM": list(dm_rows(reader, facts)),
        "SV": list(sv_rows(reader, facts)),
        "DS": list(ds_rows(reader, facts)),
        "QS": [r.values for r in records],
        "SUPPQS": list(suppqs_rows(records)),
        "TS": list(ts_rows(reader, facts, protocol, clinic_today())),
        **clinical.records,
        **{f"SUPP{domain}": supp for domain, supp in clinical.supp.items()},
    }
    return [Table(dataset, rows[name]) for name, dataset in spec.DATASETS.items()], clinical.left_out


class _Header(TypedDict):
    """What Dataset-JSON and define.xml both state about the export."""

    study_oid: str
    mdv_oid: str
    created: datetime
    source_version: str


def write_package(folder: Path, *, language: str = "en") -> Written:
    """Build every dataset from the database and write the package (audited as export.sdtm)."""
    from flask import current_app

    facts = StudyFacts.from_config()
    with db.unit_of_work() as audit_session:
        record(
            audit_session, SYSTEM, "export.sdtm", "export", "sdtm", field="options", new=f"lang={language}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = Written(folder)
    created = utcnow()
    header: _Header = {
        "study_oid": facts.studyid,
        "mdv_oid": f"MDV.{facts.studyid}.SDTMIG.3.4",
        "created": created,
        "source_version": _source_version(),
    }
    with Session(db.engine()) as reader:
        protocols = protocols_in_use(reader, current_app.config["PROTOCOL"])
        tables, left_out = build_tables(reader, facts, protocols[-1])
    written.left_out = sorted(left_out)
    for table in tables:
        written.records[table.spec.name] = len(table.rows)
        for variable in table.spec.variables:
            count = sum(not is_ascii(v) for v in table.values(variable.name))
            if count:
                written.not_ascii.append((table.spec.name, variable.name, count))
        written.files.append(_atomic(folder / f"{table.file_stem}.xpt", partial(write_xpt, table)))
        document = json.dumps(dataset_json(table, **header), ensure_ascii=False, indent=1)
        written.files.append(
            _atomic(
                folder / f"{table.file_stem}.json", partial(Path.write_text, data=document, encoding="utf-8")
            )
        )
    tree = define_xml(
        tables,
        codelists(tables, facts, protocols, measure_sets(protocols), with_korean=language == "ko"),
        study_name=facts.title,
        **header,
    )
    written.files.append(
        _atomic(folder / "define.xml", lambda p: tree.write(p, encoding="utf-8", xml_declaration=True))
    )
    return written


def _atomic(target: Path, write: Callable[[Path], object]) -> Path:
    """Write beside the target and move it into place: a failed export leaves no half file."""
    partial = target.with_name(target.name + ".partial")
    write(partial)
    partial.replace(target)
    return target
