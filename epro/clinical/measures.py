"""Clinical measures defined as data: one JSON file per measure set version in definitions/.

A site adds a measure (or a new set version) by adding a file, never code. Like the instruments, each file
has a checksum: the catalog mirrors it into the database and refuses a file changed under a used version.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from epro.text import Text

DEFINITIONS = Path(__file__).parent / "definitions"
DOMAINS = ("LB", "VS", "SPONSOR")
KINDS = ("number", "category")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
_SET_NAME = re.compile(r"^([a-z][a-z0-9_]*)-([0-9]+(?:\.[0-9]+)*)$")


class MeasureSetError(ValueError):
    """A measure set file that does not follow the format (raised when it is loaded, not when used)."""


@dataclass(frozen=True, slots=True)
class MeasureOption:
    code: str
    label: Text
    #: Order of severity, from 1 (the mildest).
    rank: int


@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    #: SDTM domain: "LB", "VS", or "SPONSOR" (no CDISC test code exists).
    domain: str
    #: True when the code is CDISC controlled terminology (LBTESTCD / VSTESTCD).
    cdisc: bool
    #: English test name (at most 40 ASCII characters), for SDTM --TEST.
    test: str
    name: Text
    unit: str
    decimals: int
    kind: str
    plausible: tuple[Decimal, Decimal] | None
    hard: tuple[Decimal, Decimal] | None
    options: tuple[MeasureOption, ...]
    visits: tuple[str, ...]

    @property
    def is_number(self) -> bool:
        return self.kind == "number"

    def label(self, language: str) -> str:
        return self.name(language)

    def option(self, code: str) -> MeasureOption | None:
        return next((option for option in self.options if option.code == code), None)

    def format(self, value: Decimal | str | None, language: str = "ko") -> str:
        """The value as shown: a number with the measure's decimals, or the option's label; '' when None."""
        if value is None or value == "":
            return ""
        if self.is_number:
            return f"{Decimal(value):.{self.decimals}f}"
        option = self.option(str(value))
        return option.label(language) if option else str(value)

    def collected_at(self, visit_code: str) -> bool:
        return visit_code in self.visits


@dataclass(frozen=True, slots=True)
class MeasureSet:
    code: str
    version: str
    name: Text
    measures: tuple[Measure, ...]
    checksum: str

    @property
    def key(self) -> str:
        """How values name their set: "liver-1.0"."""
        return f"{self.code}-{self.version}"

    def get(self, code: str) -> Measure:
        for measure in self.measures:
            if measure.code == code:
                return measure
        raise KeyError(code)

    def for_visit(self, visit_code: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if m.collected_at(visit_code))


def _range(raw: Any, where: str) -> tuple[Decimal, Decimal]:
    if not (isinstance(raw, list) and len(raw) == 2):
        raise MeasureSetError(f"{where}: a range is [low, high]")
    low, high = (Decimal(str(x)) for x in raw)
    if low > high:
        raise MeasureSetError(f"{where}: low above high")
    return low, high


def _measure(raw: dict[str, Any], where: str) -> Measure:
    code = str(raw.get("code", ""))
    where = f"{where} {code}"
    if not _CODE.match(code):
        raise MeasureSetError(f"{where}: code must be 1-8 capital letters, digits or _")
    if raw["domain"] not in DOMAINS or raw["kind"] not in KINDS:
        raise MeasureSetError(f"{where}: unknown domain or kind")
    test = str(raw["test"])
    if not (test.isascii() and 0 < len(test) <= 40):
        raise MeasureSetError(f"{where}: test name must be 1-40 ASCII characters")
    plausible = hard = None
    options: tuple[MeasureOption, ...] = ()
    if raw["kind"] == "number":
        plausible, hard = _range(raw["plausible"], where), _range(raw["hard"], where)
        if not (hard[0] <= plausible[0] and plausible[1] <= hard[1]):
            raise MeasureSetError(f"{where}: the plausible range must lie inside the hard range")
    else:
        options = tuple(
            MeasureOption(str(o["code"]), Text.parse(o["label"], where), int(o["rank"]))
            for o in raw["options"]
        )
        if not options or len({o.code for o in options}) != len(options):
            raise MeasureSetError(f"{where}: options missing or repeated")
        if any(len(o.code) > 16 for o in options):
            raise MeasureSetError(f"{where}: option codes are at most 16 characters")
    unit = str(raw.get("unit", ""))
    if len(unit) > 16:
        raise MeasureSetError(f"{where}: unit longer than 16 characters")
    return Measure(
        code=code,
        domain=raw["domain"],
        cdisc=bool(raw["cdisc"]),
        test=test,
        name=Text.parse(raw["name"], where),
        unit=unit,
        decimals=int(raw.get("decimals", 0)),
        kind=raw["kind"],
        plausible=plausible,
        hard=hard,
        options=options,
        visits=tuple(raw["visits"]),
    )


def parse_measure_set(raw_bytes: bytes, where: str) -> MeasureSet:
    raw = json.loads(raw_bytes)
    measures = tuple(_measure(m, where) for m in raw["measures"])
    if len({m.code for m in measures}) != len(measures):
        raise MeasureSetError(f"{where}: repeated measure code")
    measure_set = MeasureSet(
        code=raw["code"],
        version=str(raw["version"]),
        name=Text.parse(raw["name"], where),
        measures=measures,
        checksum=hashlib.sha256(raw_bytes).hexdigest(),
    )
    if len(measure_set.key) > 16 or not _SET_NAME.match(measure_set.key):
        raise MeasureSetError(f"{where}: set code-version must be at most 16 characters")
    return measure_set


@cache
def all_measure_sets(directory: Path = DEFINITIONS) -> dict[str, MeasureSet]:
    """Every measure set shipped, keyed by "code-version"."""
    found: dict[str, MeasureSet] = {}
    for path in sorted(directory.glob("*.json")):
        measure_set = parse_measure_set(path.read_bytes(), path.name)
        found[measure_set.key] = measure_set
    return found


def load_measure_set(key: str) -> MeasureSet:
    """A measure set by "code-version" (e.g. "liver-1.0"); cached per process."""
    try:
        return all_measure_sets()[key]
    except KeyError:
        raise KeyError(f"measure set {key}") from None


def measure_set_for(patient_or_protocol: Any) -> MeasureSet:
    """The measure set of a protocol, or of the protocol an enrolled patient follows."""
    from epro.schedule import Protocol as ScheduleProtocol
    from epro.schedule import load_protocol

    protocol = patient_or_protocol
    if not isinstance(protocol, ScheduleProtocol):
        if patient_or_protocol.protocol_code is None:
            raise LookupError("patient not enrolled: no protocol, no measure set")
        protocol = load_protocol(patient_or_protocol.protocol_code, patient_or_protocol.protocol_version)
    if not protocol.measure_set:
        raise LookupError(f"protocol {protocol.code} {protocol.version} names no measure set")
    return load_measure_set(protocol.measure_set)
