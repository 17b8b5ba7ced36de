"""Where the overview's values live: one ``Source`` per table of values (answers to the questionnaires; the
clinical values), each giving the same four columns to the statistics: the visit's patient and code, the
measure's key and the numeric value. The queries join on the tables' unique indexes, never on subqueries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import aliased
from sqlmodel import col

from epro import instruments
from epro.models import ClinicalValue, Response
from epro.schedule import Protocol
from epro.study.overview import MeasureInfo


@dataclass(frozen=True)
class Source:
    """A table of values: ``entity`` is aliased for the self-join that pairs a value with its baseline."""

    entity: type
    #: (alias) -> the visit id column.
    visit_id: Callable[[Any], Any]
    #: (alias) -> the column or expression that tells the measures apart.
    key: Callable[[Any], Any]
    #: (alias) -> the numeric value.
    value: Callable[[Any], Any]
    #: (alias) -> rows that carry a numeric value.
    where: Callable[[Any], ColumnElement[bool]]
    #: (alias) -> the date the value was assessed (the baseline is chosen by it: epro.baseline).
    assessed_on: Callable[[Any], Any]
    #: key (as read back from the database) -> measure code.
    measure_of: dict[str, str]

    def alias(self) -> Any:
        return aliased(self.entity)


def pro_measures(protocol: Protocol) -> list[tuple[MeasureInfo, str]]:
    """Each questionnaire item of the protocol as a measure, with its key "INSTRUMENT.ITEM"."""
    codes = (code for visit in protocol.visits for code in visit.instruments)
    return [
        (
            MeasureInfo(
                code=p.code,
                name=p.instrument.name,
                unit=p.instrument.unit,
                decimals=0,
                source="pro",
                threshold=None if p.threshold is None else float(p.threshold),
                scale_min=p.instrument.scale_min,
                scale_max=p.instrument.scale_max,
            ),
            f"{p.instrument.code}.{p.item.code}",
        )
        for p in instruments.protocol_items(codes, protocol.thresholds)
    ]


def pro_source(protocol: Protocol) -> tuple[Source, list[MeasureInfo]]:
    measures = pro_measures(protocol)
    source = Source(
        entity=Response,
        visit_id=lambda r: r.visit_id,
        key=lambda r: r.instrument_code + "." + r.item_code,
        value=lambda r: r.value,
        where=lambda r: col(r.id).is_not(None),
        assessed_on=lambda r: r.assessment_date,
        measure_of={key: info.code for info, key in measures},
    )
    return source, [info for info, _key in measures]


def clinical_source(protocol: Protocol) -> tuple[Source, list[MeasureInfo]] | None:
    """The numeric clinical indices of the protocol's measure set (categories such as ascites are counted
    in Child-Pugh, not averaged)."""
    if protocol.measure_set is None:
        return None
    from epro.clinical.measures import measure_set_for

    infos = [
        MeasureInfo(
            code=measure.code,
            name=measure.name,
            unit=measure.unit,
            decimals=measure.decimals,
            source="clinical",
            threshold=None,
        )
        for measure in measure_set_for(protocol).measures
        if measure.is_number
    ]
    source = Source(
        entity=ClinicalValue,
        visit_id=lambda v: v.visit_id,
        key=lambda v: v.measure_code,
        value=lambda v: v.value_number,
        where=lambda v: col(v.value_number).is_not(None),
        assessed_on=lambda v: v.sample_date,
        measure_of={info.code: info.code for info in infos},
    )
    return source, infos


def sources(protocol: Protocol) -> list[tuple[Source, list[MeasureInfo]]]:
    """Every table of values the overview reads, in the order its measures are shown: the questionnaires,
    then the clinical indices."""
    clinical = clinical_source(protocol)
    return [pro_source(protocol)] + ([clinical] if clinical else [])
