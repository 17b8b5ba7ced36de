"""One small SVG line chart per measure over study days, for the PDF and the patient page alike.

Plain SVG with presentation attributes only (no script, no style element or attribute), so it renders in
WeasyPrint and in a browser under a strict Content-Security-Policy. A missing value is never drawn: the line
breaks there, and a missed or overdue visit is marked with a dotted line and a cross on the day axis.

Few elements, no text: WeasyPrint's cost grows with every SVG element and most with every text element (a
text layout and a font run each), so the grid is one path, and the axis labels are drawn as outlines of the
shipped font's digits (fonts/tick-glyphs.json, written by tools/subset_fonts.py), as matplotlib does with
``svg.fonttype = "path"``. The chart's accessible name is its aria-label (or the image's alt text in print).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from markupsafe import Markup

from epro.reports.context import Direction, Report, VisitLine
from epro.schedule import VisitStatus

WIDTH, HEIGHT = 260, 150
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 8, 22
LABEL_SIZE = 8
TICK_GLYPHS = Path(__file__).resolve().parent / "fonts" / "tick-glyphs.json"
INK, MUTED, GRID, BAND, GAP = "#1f3f66", "#555555", "#d9d9d9", "#e8eef5", "#a33a3a"
GAP_STATUSES = (VisitStatus.MISSED, VisitStatus.OVERDUE)
DAY_STEPS = (7, 14, 30, 60, 90, 180, 365)
#: At most this many labelled days (each label's outline costs drawing time; the grid needs few).
DAY_TICKS = 5
VALUE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500)


@dataclass(frozen=True, slots=True)
class Scale:
    """Maps a domain interval onto a pixel interval."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo or 1
        return round(self.start + (value - self.lo) / span * (self.end - self.start), 1)


def ticks(lo: int, hi: int, steps: tuple[int, ...], most: int) -> list[int]:
    """Round tick values covering [lo, hi] with at most ``most`` ticks, always including 0 when in range."""
    step = next((s for s in steps if (hi - lo) / s <= most - 1), steps[-1])
    first = math.ceil(lo / step) * step
    return list(range(first, hi + 1, step))


def day_range(report: Report) -> tuple[int, int]:
    days = [v.planned_day for v in report.visits] + [v.chart_day for v in report.visits]
    return min([0, *days]), max([1, *days])


def measure_chart(report: Report, measure_code: str, label: str) -> Markup:
    """The SVG chart of one measure; ``label`` is its accessible name (already translated)."""
    measure = report.measures[report.measure_index(measure_code)]
    series = report.series(measure_code)
    day_lo, day_hi = day_range(report)
    x = Scale(day_lo, day_hi, LEFT, WIDTH - RIGHT)
    y = Scale(measure.scale_min, measure.scale_max, HEIGHT - BOTTOM, TOP)
    parts: list[str] = []

    # Grid and value axis, the day axis with its tick marks.
    values = ticks(measure.scale_min, measure.scale_max, VALUE_STEPS, 8)
    days = ticks(day_lo, day_hi, DAY_STEPS, DAY_TICKS)
    grid = "".join(f"M{LEFT},{y(value)}H{WIDTH - RIGHT}" for value in values)
    marks = "".join(f"M{x(day)},{HEIGHT - BOTTOM}v3" for day in days)
    parts.append(f'<path class="grid" d="{grid}" stroke="{GRID}" stroke-width="0.6"/>')
    parts.append(f'<path class="day-marks" d="{marks}" stroke="{MUTED}" stroke-width="0.6"/>')
    parts.extend(_label(LEFT - 4, y(value) + 3, value, "end", "value") for value in values)
    parts.extend(_label(x(day), HEIGHT - BOTTOM + 12, day, "middle", "day") for day in days)
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
        f'fill="none" stroke="{MUTED}" stroke-width="0.6"/>'
    )

    # Baseline, with a band of ±threshold around it: a point on or beyond its edge reaches the threshold.
    baseline = next((score.value for visit, score in series if visit.is_baseline), None)
    if baseline is not None:
        if measure.threshold:
            top = min(measure.scale_max, baseline + measure.threshold)
            bottom = max(measure.scale_min, baseline - measure.threshold)
            parts.append(
                f'<rect class="threshold-band" x="{LEFT}" y="{y(top)}" width="{WIDTH - LEFT - RIGHT}" '
                f'height="{round(y(bottom) - y(top), 1)}" fill="{BAND}"/>'
            )
        parts.append(
            f'<line class="baseline" x1="{LEFT}" y1="{y(baseline)}" x2="{WIDTH - RIGHT}" y2="{y(baseline)}" '
            f'stroke="{MUTED}" stroke-width="0.8" stroke-dasharray="4 3"/>'
        )

    # Missed and overdue visits: a dotted line and a cross on the day axis, never a point.
    for visit, score in series:
        if score.value is None and visit.status in GAP_STATUSES:
            cx = x(visit.chart_day)
            parts.append(
                f'<g class="gap" data-visit="{visit.code}">'
                + _line(cx, TOP, cx, HEIGHT - BOTTOM, GAP, 0.6, dash="1 2")
                + _cross(cx, HEIGHT - BOTTOM, GAP)
                + "</g>"
            )

    # The line, broken wherever a value is missing.
    for segment in _segments(series):
        if len(segment) > 1:
            points = " ".join(f"{x(day)},{y(value)}" for day, value in segment)
            parts.append(
                f'<polyline class="series" points="{points}" fill="none" stroke="{INK}" stroke-width="1.4"/>'
            )
    for visit, score in series:
        if score.value is not None:
            parts.append(_marker(visit, x(visit.chart_day), y(score.value), score.flag))

    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(label)} '
        f'data-measure="{measure.code}">' + "".join(parts) + "</svg>"
    )


def data_uri(svg: str) -> str:
    """The chart as a ``data:image/svg+xml`` URI, for an <img> in the printed summary: WeasyPrint then reads
    it with its own small SVG parser instead of styling every element through the HTML cascade."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def _segments(series: list[tuple[VisitLine, object]]) -> list[list[tuple[int, int]]]:
    segments: list[list[tuple[int, int]]] = [[]]
    for visit, score in series:
        value = score.value  # type: ignore[attr-defined]
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((visit.chart_day, value))
    return [segment for segment in segments if segment]


def _marker(visit: VisitLine, cx: float, cy: float, flag: Direction | None) -> str:
    attrs = f'data-visit="{visit.code}" fill="{INK}"'
    if visit.is_baseline:
        return f'<rect class="point baseline-point" x="{cx - 3}" y="{cy - 3}" width="6" height="6" {attrs}/>'
    if flag is Direction.UP:
        return f'<path class="point flag-up" d="M{cx},{cy - 4} L{cx + 4},{cy + 3} L{cx - 4},{cy + 3} Z" {attrs}/>'
    if flag is Direction.DOWN:
        return f'<path class="point flag-down" d="M{cx},{cy + 4} L{cx + 4},{cy - 3} L{cx - 4},{cy - 3} Z" {attrs}/>'
    return f'<circle class="point" cx="{cx}" cy="{cy}" r="2.4" {attrs}/>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="{width}"{dashed}/>'


def _cross(cx: float, cy: float, colour: str) -> str:
    return (
        f'<path d="M{cx - 3},{cy - 3} L{cx + 3},{cy + 3} M{cx - 3},{cy + 3} L{cx + 3},{cy - 3}" '
        f'stroke="{colour}" stroke-width="1.2"/>'
    )


@cache
def _tick_glyphs() -> dict[str, Any]:
    return json.loads(TICK_GLYPHS.read_text())  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)
def label_outline(x: float, y: float, text: str, anchor: str) -> str:
    """Path data drawing ``text`` (digits and minus signs) with its baseline at ``y``, anchored at ``x``.
    Coordinates to 0.1 unit (0.03 mm on paper). Cached: the same axes recur from summary to summary."""
    font = _tick_glyphs()
    glyphs = [font["glyphs"][character] for character in text]
    scale = LABEL_SIZE / font["units_per_em"]
    width = sum(glyph["advance"] for glyph in glyphs) * scale
    pen_x = x - {"start": 0, "middle": width / 2, "end": width}[anchor]
    commands: list[str] = []
    for glyph in glyphs:
        for command, *coordinates in glyph["path"]:
            points = [
                f"{round(pen_x + coordinates[i] * scale, 1):g},{round(y - coordinates[i + 1] * scale, 1):g}"
                for i in range(0, len(coordinates), 2)
            ]
            commands.append(command + " ".join(points))
        pen_x += glyph["advance"] * scale
    return "".join(commands)


def _label(x: float, y: float, value: int, anchor: str, axis: str) -> str:
    return (
        f'<path class="tick-label {axis}-label" data-value="{value}" '
        f'd="{label_outline(x, y, str(value), anchor)}" fill="{MUTED}"/>'
    )
