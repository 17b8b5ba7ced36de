"""Baseline characteristics: what the protocol file lists under "baseline_characteristics", typed.

Two kinds of entry: a category of its own (aetiology: {"code", "name", "options"}), or a measure of the
protocol's measure set entered once at enrolment ({"measure": "ALB"}), which keeps the measure's unit,
decimals, ranges and options. Values are stored as text: the option code, or the number with its decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from epro.clinical.child_pugh import ChildPugh, child_pugh
from epro.clinical.measures import Measure, MeasureOption, MeasureSetError, measure_set_for
from epro.schedule import Protocol
from epro.text import Text


@dataclass(frozen=True, slots=True)
class Characteristic:
    code: str
    name: Text
    #: "number" or "category".
    kind: str
    options: tuple[MeasureOption, ...] = ()
    #: The measure this characteristic records at baseline, if it is one.
    measure: Measure | None = None

    @property
    def unit(self) -> str:
        return self.measure.unit if self.measure else ""

    def label(self, language: str) -> str:
        return self.name(language)

    def format(self, value: str | None, language: str = "ko") -> str:
        if value is None or value == "":
            return ""
        if self.measure is not None:
            return self.measure.format(value, language)
        option = next((o for o in self.options if o.code == value), None)
        return option.label(language) if option else value


def characteristics_for(protocol: Protocol) -> tuple[Characteristic, ...]:
    found: list[Characteristic] = []
    for raw in protocol.baseline_characteristics:
        if "measure" in raw:
            measure = measure_set_for(protocol).get(raw["measure"])
            found.append(Characteristic(measure.code, measure.name, measure.kind, measure.options, measure))
            continue
        where = f"protocol {protocol.code} {protocol.version} {raw.get('code')}"
        options = tuple(
            MeasureOption(str(o["code"]), Text.parse(o["label"], where), rank)
            for rank, o in enumerate(raw["options"], start=1)
        )
        if not options or any(len(o.code) > 32 for o in options):
            raise MeasureSetError(f"{where}: options missing or longer than 32 characters")
        found.append(Characteristic(str(raw["code"]), Text.parse(raw["name"], where), "category", options))
    if len({c.code for c in found}) != len(found) or any(len(c.code) > 16 for c in found):
        raise MeasureSetError(f"protocol {protocol.code}: baseline characteristic codes repeated or too long")
    return tuple(found)


def baseline_child_pugh(values: dict[str, str], protocol: Protocol) -> ChildPugh | None:
    """Child-Pugh at enrolment from stored characteristics (text values), or None when an input is missing."""
    typed: dict[str, Decimal | str | None] = dict(values)
    return child_pugh(typed, protocol.child_pugh_coagulation)
