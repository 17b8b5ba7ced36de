"""The shared bench/results.json: a list of {"name", "value", "target", "unit", "meets"}, merged by name
(each benchmark replaces only its own entries), and the side-by-side table every benchmark prints."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Ratio:
    """One measured figure and its target; `higher_is_better` says which side of the target passes."""

    name: str
    value: float
    target: float
    unit: str
    higher_is_better: bool

    @property
    def meets(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    @property
    def target_text(self) -> str:
        return f"{'>=' if self.higher_is_better else '<='} {self.target:g}"

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "target": self.target_text,
            "unit": self.unit,
            "meets": self.meets,
        }


def at_least(name: str, value: float, target: float, unit: str = "x") -> Ratio:
    return Ratio(name, value, target, unit, True)


def at_most(name: str, value: float, target: float, unit: str = "x") -> Ratio:
    return Ratio(name, value, target, unit, False)


def print_table(title: str, rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> None:
    rows = [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def print_ratios(title: str, ratios: Iterable[Ratio]) -> None:
    print_table(
        title,
        (
            (r.name, f"{r.value:.3g} {r.unit}", f"{r.target_text} {r.unit}", "yes" if r.meets else "NO")
            for r in ratios
        ),
        ("ratio", "measured", "target", "meets"),
    )


def save(ratios: Iterable[Ratio], path: Path = RESULTS) -> None:
    """Replace these entries by name in results.json, keeping every other benchmark's entries."""
    fresh = [r.as_json() for r in ratios]
    names = {entry["name"] for entry in fresh}
    existing = json.loads(path.read_text()) if path.exists() else []
    kept = [entry for entry in existing if entry.get("name") not in names]
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(kept + fresh, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(values: list[float]) -> float:
    return statistics.median(values)
