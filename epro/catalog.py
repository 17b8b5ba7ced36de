"""Mirror the instrument, measure set and protocol files into the database, so data can reference them.

Idempotent: run by init-db. A changed file under an existing version is refused: publish a new version.
"""

from __future__ import annotations

from sqlmodel import Session, select

from epro import instruments
from epro.clinical.measures import all_measure_sets
from epro.models import Instrument, ItemOption, MeasureSetFile, ProtocolVisit
from epro.schedule import Protocol


def sync_instruments(db: Session) -> int:
    """Instruments (and the clinical measure sets with them); returns how many instrument versions were new."""
    sync_measure_sets(db)
    added = 0
    for (code, version), definition in instruments.all_instruments().items():
        row = db.get(Instrument, (code, version))
        if row is not None:
            if row.checksum != definition.checksum:
                raise ValueError(f"instrument {code} {version} changed after use: give it a new version")
            continue
        db.add(Instrument(code=code, version=version, checksum=definition.checksum))
        db.flush()
        for item in definition.items:
            for option in item.options:
                db.add(
                    ItemOption(
                        instrument_code=code,
                        instrument_version=version,
                        item_code=item.code,
                        value=option.value,
                    )
                )
        added += 1
    db.flush()
    return added


def sync_measure_sets(db: Session) -> int:
    added = 0
    for key, measure_set in all_measure_sets().items():
        row = db.get(MeasureSetFile, key)
        if row is not None:
            if row.checksum != measure_set.checksum:
                raise ValueError(f"measure set {key} changed after use: give it a new version")
            continue
        db.add(MeasureSetFile(key=key, checksum=measure_set.checksum))
        added += 1
    db.flush()
    return added


def sync_protocol(db: Session, protocol: Protocol) -> dict[str, ProtocolVisit]:
    """The protocol's visits as rows, created on first use; keyed by visit code."""
    rows = {
        row.code: row
        for row in db.exec(
            select(ProtocolVisit).where(
                ProtocolVisit.protocol_code == protocol.code,
                ProtocolVisit.protocol_version == protocol.version,
            )
        ).all()
    }
    for visit in protocol.visits:
        if visit.code not in rows:
            rows[visit.code] = ProtocolVisit(
                protocol_code=protocol.code,
                protocol_version=protocol.version,
                code=visit.code,
                number=visit.number,
                day=visit.day,
                window_before=visit.window_before,
                window_after=visit.window_after,
                instruments=" ".join(visit.instruments),
            )
            db.add(rows[visit.code])
    db.flush()
    return rows
