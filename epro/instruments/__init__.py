"""Instruments defined as data: one JSON file per instrument version in definitions/.

A site adds an instrument (or a new version) by adding a file; no code changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from epro.text import Text

DEFINITIONS = Path(__file__).parent / "definitions"


@dataclass(frozen=True, slots=True)
class Option:
    value: int
    label: Text


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    text: Text
    options: tuple[Option, ...]

    @property
    def values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)

    def option(self, value: int) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    version: str
    name: Text
    patient_title: Text
    recall: Text
    scale_min: int
    scale_max: int
    unit: str
    items: tuple[Item, ...]
    checksum: str


def parse_instrument(raw_bytes: bytes, where: str) -> Instrument:
    raw = json.loads(raw_bytes)
    items = tuple(
        Item(
            code=item["code"],
            text=Text.parse(item["text"], f"{where} {item['code']}"),
            options=tuple(
                Option(value=int(opt["value"]), label=Text.parse(opt["label"], f"{where} {item['code']}"))
                for opt in item["options"]
            ),
        )
        for item in raw["items"]
    )
    for item in items:
        if len(item.values) != len(item.options):
            raise ValueError(f"{where} {item.code}: duplicate option values")
    return Instrument(
        code=raw["code"],
        version=str(raw["version"]),
        name=Text.parse(raw["name"], where),
        patient_title=Text.parse(raw["patient_title"], where),
        recall=Text.parse(raw["recall"], where),
        scale_min=int(raw["scale"]["min"]),
        scale_max=int(raw["scale"]["max"]),
        unit=raw["scale"].get("unit", ""),
        items=items,
        checksum=hashlib.sha256(raw_bytes).hexdigest(),
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@cache
def all_instruments(directory: Path = DEFINITIONS) -> dict[tuple[str, str], Instrument]:
    """Every instrument version shipped, keyed by (code, version)."""
    found: dict[tuple[str, str], Instrument] = {}
    for path in sorted(directory.glob("*.json")):
        instrument = parse_instrument(path.read_bytes(), path.name)
        found[(instrument.code, instrument.version)] = instrument
    return found


def current(code: str) -> Instrument:
    """The newest version of an instrument."""
    versions = [inst for (c, _v), inst in all_instruments().items() if c == code]
    if not versions:
        raise KeyError(code)
    return max(versions, key=lambda inst: _version_key(inst.version))


def get(code: str, version: str) -> Instrument:
    return all_instruments()[(code, version)]


@dataclass(frozen=True, slots=True)
class ProtocolItem:
    """One item a protocol asks, as a measure: its code is the instrument's for a one-item instrument
    ("PS"), else "INSTRUMENT.ITEM"; the threshold is the protocol's for that code, else for the instrument."""

    code: str
    instrument: Instrument
    item: Item
    threshold: int | None


def protocol_items(instrument_codes: Iterable[str], thresholds: Mapping[str, int]) -> list[ProtocolItem]:
    """Every item of the given instruments (newest versions), in order, each instrument once."""
    found: list[ProtocolItem] = []
    for code in dict.fromkeys(instrument_codes):
        instrument = current(code)
        for item in instrument.items:
            measure_code = code if len(instrument.items) == 1 else f"{code}.{item.code}"
            threshold = thresholds.get(measure_code, thresholds.get(code))
            found.append(ProtocolItem(measure_code, instrument, item, threshold))
    return found
