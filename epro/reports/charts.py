"""The small charts of the summary's panel (the trial's Figure 5), for the PDF and the patient page alike.

Every chart of a summary shares one study-day axis, marked at the planned visits and labelled with their
codes (BL, W1, ...); a score or a clinical index is a series of values by visit (``Series``). The data sit
inside the frame with a margin, so no point, line or mark touches it.

Plain SVG with presentation attributes only (no script, no style element or attribute), so it renders in
WeasyPrint and in a browser under a strict Content-Security-Policy. A missing value is never drawn: the line
breaks there, and a missed or overdue visit is marked with a dotted line and a cross.

Few elements, no text: WeasyPrint's cost grows with every SVG element and most with every text element (a
text layout and a font run each), so the grid is one path, and the axis labels are drawn as outlines of the
shipped font's characters (fonts/tick-glyphs.json, written by tools/subset_fonts.py), as matplotlib does
with ``svg.fonttype = "path"``. The chart's accessible name is its aria-label (or the image's alt text in
print); its title and unit stand in the caption beside it, as text.
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

from epro.reports.context import Direction, Measure, Report, VisitLine
from epro.schedule import VisitStatus

WIDTH = 180
#: The frame: room for the value labels on the left; its bottom edge is at TOP + FRAME_HEIGHT.
LEFT, RIGHT, TOP, FRAME_HEIGHT = 24, 4, 3, 64
#: Below the frame: the visit marks, then (on the charts that carry the shared axis's labels) one row of
#: visit codes, or more where codes would touch.
BOTTOM_MARKS, ROW_HEIGHT, MOST_ROWS = 3, 7.5, 3
#: Space between the frame and the data, on every side.
PAD = 6
LABEL_SIZE = 7
TICK_GLYPHS = Path(__file__).resolve().parent / "fonts" / "tick-glyphs.json"
INK, MUTED, GRID, BAND, GAP = "#1f3f66", "#555555", "#d9d9d9", "#e8eef5", "#a33a3a"
GAP_STATUSES = (VisitStatus.MISSED, VisitStatus.OVERDUE)
VALUE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500)
#: Round study-day steps, for charts labelled in days rather than visits (the study page's charts).
DAY_STEPS = (7, 14, 30, 60, 90, 180, 365)
#: About this many labelled values on a clinical index's axis (each label's outline costs drawing time).
VALUE_TICKS = 4
#: At most this many on a score's axis (its whole scale).
SCALE_TICKS = 6


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


@dataclass(frozen=True, slots=True)
class Axis:
    """A value axis: its range, its labelled ticks, and the decimals of their labels."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    decimals: int = 0

    def label(self, value: float) -> str:
        return f"{value:.{self.decimals}f}"


@dataclass(frozen=True, slots=True)
class Point:
    visit: VisitLine
    value: float | None
    flag: Direction | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """What one chart draws: a value per visit on a value axis, with the baseline band's half-width."""

    code: str
    axis: Axis
    points: tuple[Point, ...]
    threshold: float | None = None

    @property
    def baseline(self) -> float | None:
        return next((point.value for point in self.points if point.visit.is_baseline), None)

    @property
    def has_values(self) -> bool:
        return any(point.value is not None for point in self.points)


def ticks(lo: int, hi: int, steps: tuple[int, ...], most: int) -> list[int]:
    """Round tick values covering [lo, hi] with at most ``most`` ticks, always including 0 when in range."""
    step = next((s for s in steps if (hi - lo) / s <= most - 1), steps[-1])
    first = math.ceil(lo / step) * step
    return list(range(first, hi + 1, step))


def nice_axis(values: list[float], most: int = VALUE_TICKS, min_span: float = 0.1) -> Axis:
    """A value axis of round ticks (1, 2 or 5 times a power of ten), about ``most``, covering ``values``
    and at least ``min_span`` wide (so that a change in the last decimal does not fill the chart); it
    starts at 0 or above when no value is negative."""
    lo, hi = min(values), max(values)
    if hi - lo < min_span:
        middle = (lo + hi) / 2
        lo, hi = middle - min_span / 2, middle + min_span / 2
        if min(values) >= 0 and lo < 0:
            lo, hi = 0, min_span
    raw = (hi - lo) / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    if min(values) >= 0:
        first = max(first, 0)
    at = tuple(round(i * step, 6) for i in range(first, last + 1))
    decimals = min(3, max(0, -math.floor(math.log10(step) + 1e-9)))
    return Axis(at[0], at[-1], at, decimals)


def day_range(report: Report) -> tuple[int, int]:
    days = [v.planned_day for v in report.visits] + [v.chart_day for v in report.visits]
    return min([0, *days]), max([1, *days])


def measure_series(report: Report, measure: Measure) -> Series:
    """A score's series: the instrument's whole scale, the protocol's threshold around the baseline."""
    scale = ticks(measure.scale_min, measure.scale_max, VALUE_STEPS, SCALE_TICKS)
    axis = Axis(measure.scale_min, measure.scale_max, tuple(scale))
    points = tuple(
        Point(visit, None if score.value is None else float(score.value), score.flag)
        for visit, score in report.series(measure.code)
    )
    return Series(measure.code, axis, points, measure.threshold)


def index_series(report: Report, code: str) -> Series:
    """A clinical index's series, on an axis fitted to its values: at least ten steps of its last decimal
    wide (1 g/dL of albumin, 0.1 of INR, 10 % of prothrombin time)."""
    points = tuple(
        Point(visit, None if value.number is None else float(value.number))
        for visit, value in report.index_series(code)
    )
    values = [point.value for point in points if point.value is not None]
    decimals = next((index.decimals for index in report.indices if index.code == code), 1)
    return Series(code, nice_axis(values or [0.0, 1.0], min_span=10.0 ** (1 - decimals)), points)


#: Child-Pugh score: 5 to 15, ticks where each class begins (A 5, B 7, C 10).
CHILD_PUGH_AXIS = Axis(5, 15, (5, 7, 10, 15))


def child_pugh_series(report: Report) -> Series:
    """The derived Child-Pugh score at every visit where all its inputs were measured."""
    points = tuple(
        Point(visit, None if visit.child_pugh is None else float(visit.child_pugh.score))
        for visit in report.visits
    )
    return Series("CP", CHILD_PUGH_AXIS, points)


@dataclass(frozen=True, slots=True)
class DayAxis:
    """The study-day axis every chart of a report shares: the x scale, and the visits in day order with the
    row of each one's code."""

    x: Scale
    visits: tuple[VisitLine, ...]
    rows: tuple[int, ...]
    frame_bottom: float = TOP + FRAME_HEIGHT

    def y(self, axis: Axis) -> Scale:
        return Scale(axis.lo, axis.hi, self.frame_bottom - PAD, TOP + PAD)

    def height(self, labelled: bool) -> float:
        """The chart's height: with the rows of visit codes, or with the marks only."""
        rows = max(self.rows, default=0) + 1 if labelled else 0
        return self.frame_bottom + BOTTOM_MARKS + ROW_HEIGHT * rows + 1


def day_axis(report: Report) -> DayAxis:
    day_lo, day_hi = day_range(report)
    x = Scale(day_lo, day_hi, LEFT + PAD, WIDTH - RIGHT - PAD)
    visits = sorted(report.visits, key=lambda visit: visit.planned_day)
    return DayAxis(x, tuple(visits), tuple(visit_label_rows(visits, x)))


def chart(report: Report, series: Series, label: str, *, labelled: bool = True) -> Markup:
    """The SVG chart of one series on the report's study-day axis; ``labelled``: with the visit codes under
    it (in a panel, only the lowest chart of each column carries them)."""
    days = day_axis(report)
    x, visits, rows, frame_bottom = days.x, days.visits, days.rows, days.frame_bottom
    frame_right = WIDTH - RIGHT
    height = days.height(labelled)
    axis = series.axis
    y = days.y(axis)
    parts: list[str] = []

    # Grid and value axis; the visit marks and codes under the frame.
    grid = "".join(f"M{LEFT},{y(value)}H{frame_right}" for value in axis.ticks)
    marks = "".join(f"M{x(visit.planned_day)},{frame_bottom}v3" for visit in visits)
    parts.append(f'<path class="grid" d="{grid}" stroke="{GRID}" stroke-width="0.6"/>')
    parts.append(f'<path class="visit-marks" d="{marks}" stroke="{MUTED}" stroke-width="0.6"/>')
    parts.extend(_label(LEFT - 3, y(value) + 2.5, axis.label(value), "end", "value") for value in axis.ticks)
    if labelled:
        parts.extend(
            f'<path class="tick-label visit-label" data-value="{visit.code}" fill="{MUTED}" d="'
            + label_outline(
                x(visit.planned_day),
                frame_bottom + BOTTOM_MARKS + ROW_HEIGHT * (row + 1),
                visit.code,
                "middle",
            )
            + '"/>'
            for visit, row in zip(visits, rows, strict=True)
        )
    parts.append(
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{frame_right - LEFT}" height="{frame_bottom - TOP}" '
        f'fill="none" stroke="{MUTED}" stroke-width="0.6"/>'
    )

    # Baseline, with a band of ±threshold around it: a point on or beyond its edge reaches the threshold.
    baseline = series.baseline
    if baseline is not None:
        if series.threshold:
            top = min(axis.hi, baseline + series.threshold)
            bottom = max(axis.lo, baseline - series.threshold)
            parts.append(
                f'<rect class="threshold-band" x="{LEFT + PAD}" y="{y(top)}" width="{frame_right - LEFT - 2 * PAD}" '
                f'height="{round(y(bottom) - y(top), 1)}" fill="{BAND}"/>'
            )
        parts.append(
            f'<line class="baseline" x1="{LEFT + PAD}" y1="{y(baseline)}" x2="{frame_right - PAD}" '
            f'y2="{y(baseline)}" stroke="{MUTED}" stroke-width="0.8" stroke-dasharray="4 3"/>'
        )

    # Missed and overdue visits: a dotted line ending in a cross, never a point.
    for point in series.points:
        if point.value is None and point.visit.status in GAP_STATUSES:
            cx = x(point.visit.chart_day)
            bottom = frame_bottom - PAD / 2
            parts.append(
                f'<g class="gap" data-visit="{point.visit.code}">'
                + _line(cx, TOP + PAD / 2, cx, bottom - 2.5, GAP, 0.6, dash="1 2")
                + _cross(cx, bottom - 0.5, GAP)
                + "</g>"
            )

    # The line, broken wherever a value is missing.
    for segment in _segments(series.points):
        if len(segment) > 1:
            points = " ".join(f"{x(day)},{y(value)}" for day, value in segment)
            parts.append(
                f'<polyline class="series" points="{points}" fill="none" stroke="{INK}" stroke-width="1.3"/>'
            )
    for point in series.points:
        if point.value is not None:
            parts.append(_marker(point.visit, x(point.visit.chart_day), y(point.value), point.flag))

    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height:g}" '
        f'width="{WIDTH}" height="{height:g}" role="img" aria-label={quoteattr(label)} '
        f'data-measure="{series.code}">' + "".join(parts) + "</svg>"
    )


def data_uri(svg: str) -> str:
    """The chart as a ``data:image/svg+xml`` URI, for an <img> in the printed summary: WeasyPrint then reads
    it with its own small SVG parser instead of styling every element through the HTML cascade."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def visit_label_rows(visits: list[VisitLine], x: Scale) -> list[int]:
    """The row (0 the first) of each visit's code, centred under its mark: a code that would touch the one
    before it in a row goes to the next row (at most MOST_ROWS)."""
    right_edges = [-math.inf] * MOST_ROWS
    rows = []
    for visit in visits:
        cx, half = x(visit.planned_day), label_width(visit.code) / 2
        row = next((i for i, edge in enumerate(right_edges) if edge + 1.5 <= cx - half), MOST_ROWS - 1)
        right_edges[row] = cx + half
        rows.append(row)
    return rows


def _segments(points: tuple[Point, ...]) -> list[list[tuple[int, float]]]:
    segments: list[list[tuple[int, float]]] = [[]]
    for point in points:
        if point.value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((point.visit.chart_day, point.value))
    return [segment for segment in segments if segment]


def _marker(visit: VisitLine, cx: float, cy: float, flag: Direction | None) -> str:
    attrs = f'data-visit="{visit.code}" fill="{INK}"'
    if visit.is_baseline:
        return f'<rect class="point baseline-point" x="{cx - 3}" y="{cy - 3}" width="6" height="6" {attrs}/>'
    if flag is Direction.UP:
        return f'<path class="point flag-up" d="M{cx},{cy - 4} L{cx + 4},{cy + 3} L{cx - 4},{cy + 3} Z" {attrs}/>'
    if flag is Direction.DOWN:
        return f'<path class="point flag-down" d="M{cx},{cy + 4} L{cx + 4},{cy - 3} L{cx - 4},{cy - 3} Z" {attrs}/>'
    return f'<circle class="point" cx="{cx}" cy="{cy}" r="2.2" {attrs}/>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="{width}"{dashed}/>'


def _cross(cx: float, cy: float, colour: str) -> str:
    return (
        f'<path d="M{cx - 2.5},{cy - 2.5} L{cx + 2.5},{cy + 2.5} M{cx - 2.5},{cy + 2.5} L{cx + 2.5},{cy - 2.5}" '
        f'stroke="{colour}" stroke-width="1.2"/>'
    )


@cache
def _tick_glyphs() -> dict[str, Any]:
    glyphs: dict[str, Any] = json.loads(TICK_GLYPHS.read_text())
    return glyphs


def label_width(text: str) -> float:
    font = _tick_glyphs()
    return sum(font["glyphs"][character]["advance"] for character in text) * LABEL_SIZE / font["units_per_em"]


@lru_cache(maxsize=4096)
def label_outline(x: float, y: float, text: str, anchor: str) -> str:
    """Path data drawing ``text`` (digits, minus, point, capitals) with its baseline at ``y``, anchored at ``x``.
    Coordinates to 0.1 unit (0.03 mm on paper). Cached: the same axes recur from summary to summary."""
    font = _tick_glyphs()
    glyphs = [font["glyphs"][character] for character in text]
    scale = LABEL_SIZE / font["units_per_em"]
    width = label_width(text)
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


def _label(x: float, y: float, text: str, anchor: str, axis: str) -> str:
    return (
        f'<path class="tick-label {axis}-label" data-value="{text}" '
        f'd="{label_outline(x, y, text, anchor)}" fill="{MUTED}"/>'
    )
