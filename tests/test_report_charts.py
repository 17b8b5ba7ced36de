"""The SVG charts: gaps where values are missing (never a point at zero), the baseline marked, flags shown,
one study-day axis labelled with the visit codes, nothing touching the frame, and nothing a strict
Content-Security-Policy or WeasyPrint would refuse."""

from __future__ import annotations

import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from fontTools.ttLib import TTFont
from markupsafe import Markup

from epro.reports.charts import (
    LEFT,
    RIGHT,
    TICK_GLYPHS,
    TOP,
    WIDTH,
    day_axis,
    index_series,
    measure_series,
    nice_axis,
    ticks,
)
from epro.reports.charts import (
    chart as series_chart,
)
from epro.reports.context import Report, build_report
from tests.conftest import World
from tests.report_helpers import SEOUL, eventful_history

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parent.parent


def chart(world: World, measure: str) -> tuple[Report, ET.Element]:
    with world.app.app_context(), world.session() as s:
        report = build_report(
            s, eventful_history(world).id, study_name="S", zone=SEOUL, now=datetime.now(UTC), generated_by="t"
        )
    return report, ET.fromstring(str(measure_chart(report, measure, "PS over study days")))


def y_of(report: Report, measure: str, value: float) -> float:
    series = measure_series(report, report.measures[report.measure_index(measure)])
    return day_axis(report).y(series.axis)(value)


def x_of(report: Report, day: int) -> float:
    return day_axis(report).x(day)


def points(element: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in element.get("points", "").split()]  # type: ignore[misc]


def test_the_line_breaks_at_missed_and_overdue_visits(world: World) -> None:
    report, svg = chart(world, "PS")
    lines = svg.findall(f"{SVG}polyline")
    # BL -> W1, then W2 (missed) and M1 (overdue) break it, then M2 -> M3.
    assert [points(line) for line in lines] == [
        [(x_of(report, 0), y_of(report, "PS", 60)), (x_of(report, 7), y_of(report, "PS", 70))],
        [(x_of(report, 69), y_of(report, "PS", 50)), (x_of(report, 85), y_of(report, "PS", 60))],
    ]
    gaps = {g.get("data-visit"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "gap"}
    assert set(gaps) == {"W2", "M1"}
    marked = {e.get("data-visit") for e in svg.iter() if "point" in (e.get("class") or "")}
    assert marked == {"BL", "W1", "M2", "M3"}
    # Nothing sits on the zero line for the visits without data.
    zero = y_of(report, "PS", 0)
    assert all(y != zero for line in lines for _x, y in points(line))


def test_a_lone_value_between_gaps_is_a_point_without_a_line(world: World) -> None:
    _report, svg = chart(world, "WB")
    lines = svg.findall(f"{SVG}polyline")
    assert [len(points(line)) for line in lines] == [2]  # BL -> W1; M2 alone; M3 has no WB answer
    marked = {e.get("data-visit") for e in svg.iter() if "point" in (e.get("class") or "")}
    assert marked == {"BL", "W1", "M2"}
    # M3 was completed (only WB unanswered): a gap in the line, but not a missed-visit mark.
    assert {g.get("data-visit") for g in svg.iter(f"{SVG}g") if g.get("class") == "gap"} == {"W2", "M1"}


def test_baseline_is_marked_with_a_line_and_a_threshold_band(world: World) -> None:
    report, svg = chart(world, "PS")
    (baseline,) = [e for e in svg.iter(f"{SVG}line") if e.get("class") == "baseline"]
    assert float(baseline.get("y1")) == float(baseline.get("y2")) == y_of(report, "PS", 60)  # type: ignore[arg-type]
    (band,) = [e for e in svg.iter(f"{SVG}rect") if e.get("class") == "threshold-band"]
    assert float(band.get("y")) == y_of(report, "PS", 70)  # type: ignore[arg-type]
    assert round(float(band.get("y")) + float(band.get("height")), 1) == y_of(report, "PS", 50)  # type: ignore[arg-type]
    (square,) = [e for e in svg.iter(f"{SVG}rect") if "baseline-point" in (e.get("class") or "")]
    assert square.get("data-visit") == "BL"


def test_flags_point_up_and_down(world: World) -> None:
    _report, svg = chart(world, "PS")
    flags = {e.get("data-visit"): e.get("class") for e in svg.iter(f"{SVG}path") if e.get("data-visit")}
    assert flags == {"W1": "point flag-up", "M2": "point flag-down"}


def test_svg_needs_no_script_or_style_and_is_labelled(world: World) -> None:
    _report, svg = chart(world, "QOL")
    assert svg.get("role") == "img" and svg.get("aria-label") == "PS over study days"
    for element in svg.iter():
        assert element.tag.removeprefix(SVG) not in ("script", "style", "foreignObject", "image")
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)


def test_ticks_are_round_and_cover_the_scale() -> None:
    assert ticks(0, 100, (1, 2, 5, 10, 20, 25, 50, 100), 8) == [0, 20, 40, 60, 80, 100]
    assert ticks(1, 7, (1, 2, 5), 8) == [1, 2, 3, 4, 5, 6, 7]
    assert ticks(-5, 180, (7, 14, 30, 60), 8) == [0, 30, 60, 90, 120, 150, 180]


def test_every_tick_has_its_label_drawn_in_place(world: World) -> None:
    report, svg = chart(world, "PS")
    labels = {
        (e.get("class"), e.get("data-value")): e.get("d")
        for e in svg.iter(f"{SVG}path")
        if e.get("data-value")
    }
    value_ticks = measure_series(report, report.measures[0]).axis.ticks
    assert value_ticks == (0, 20, 40, 60, 80, 100)
    assert {value for kind, value in labels if kind == "tick-label value-label"} == {
        str(v) for v in value_ticks
    }
    # The day axis is labelled with every visit's code, centred under its planned day.
    codes = [visit.code for visit in report.visits]
    assert {value for kind, value in labels if kind == "tick-label visit-label"} == set(codes)
    # A value label ends just left of the plot and sits on its grid line.
    for value in value_ticks:
        xs, ys = outline_bounds(labels[("tick-label value-label", str(value))])
        assert LEFT - 6 < max(xs) < LEFT and min(ys) < y_of(report, "PS", value) < max(ys) + 3
    frame_bottom = day_axis(report).frame_bottom
    boxes = []
    for visit in report.visits:
        xs, ys = outline_bounds(labels[("tick-label visit-label", visit.code)])
        assert abs((min(xs) + max(xs)) / 2 - x_of(report, visit.planned_day)) < 1
        assert min(ys) > frame_bottom  # under the frame
        boxes.append((min(xs), max(xs), min(ys), max(ys)))
    # Codes close together (BL, W1, W2 a week apart) drop a row instead of overprinting each other.
    for i, (left, right, top, bottom) in enumerate(boxes):
        for other in boxes[i + 1 :]:
            assert right < other[0] or other[1] < left or bottom < other[2] or other[3] < top
    # Wider numbers take wider outlines.
    assert width_of(labels[("tick-label value-label", "100")]) > 2 * width_of(
        labels[("tick-label value-label", "0")]
    )


def test_nothing_touches_the_frame(world: World) -> None:
    """Points, lines, the band and the missed-visit marks all keep clear of the frame's edges."""
    report, _svg = chart(world, "PS")
    for measure in ("PS", "WB", "QOL"):
        svg = ET.fromstring(str(measure_chart(report, measure, measure)))
        bottom = day_axis(report).frame_bottom
        inside = (LEFT + 1, WIDTH - RIGHT - 1, TOP + 1, bottom - 1)
        drawn = [
            e for e in svg.iter() if e.get("class") not in (None, "chart", "frame", "grid", "visit-marks")
        ]
        drawn = [e for e in drawn if "tick-label" not in (e.get("class") or "")]
        drawn += [child for g in svg.iter(f"{SVG}g") for child in g]
        assert drawn
        for element in drawn:
            for x, y in coordinates(element):
                assert inside[0] <= x <= inside[1] and inside[2] <= y <= inside[3], (measure, element.attrib)


def coordinates(element: ET.Element) -> list[tuple[float, float]]:
    a = {
        k: float(v) for k, v in element.attrib.items() if k in ("x", "y", "width", "height", "cx", "cy", "r")
    }
    a |= {k: float(v) for k, v in element.attrib.items() if k in ("x1", "y1", "x2", "y2")}
    if "points" in element.attrib:
        return points(element)
    if "d" in element.attrib:
        xs, ys = outline_bounds(element.get("d"))
        return list(zip(xs, ys, strict=True))
    if "r" in a:
        return [(a["cx"] - a["r"], a["cy"] - a["r"]), (a["cx"] + a["r"], a["cy"] + a["r"])]
    if "width" in a:
        return [(a["x"], a["y"]), (a["x"] + a["width"], a["y"] + a["height"])]
    if "x1" in a:
        return [(a["x1"], a["y1"]), (a["x2"], a["y2"])]
    return []


def test_a_clinical_index_gets_an_axis_fitted_to_its_values(world: World) -> None:
    report, _svg = chart(world, "PS")
    series = index_series(report, "WEIGHT")
    assert [(p.visit.code, p.value) for p in series.points if p.value is not None] == [
        ("BL", 61.0),
        ("M2", 59.4),
    ]
    assert series.baseline == 61.0 and series.axis.lo <= 59.4 and series.axis.hi >= 61.0
    svg = ET.fromstring(str(series_chart(report, series, "Weight")))
    marked = {e.get("data-visit") for e in svg.iter() if "point" in (e.get("class") or "")}
    assert marked == {"BL", "M2"} and not svg.findall(f"{SVG}polyline")  # no line across the gap


def test_value_axes_are_round_and_cover_the_values() -> None:
    albumin = nice_axis([2.6, 3.1])  # range 0.5 over 3 steps: 0.167, rounded up to 0.2
    assert albumin.ticks == (2.6, 2.8, 3.0, 3.2) and [albumin.label(t) for t in albumin.ticks][-2:] == [
        "3.0",
        "3.2",
    ]
    assert nice_axis([2.6, 3.5]).ticks == (2.5, 3.0, 3.5)
    assert nice_axis([118, 142]).ticks == (110, 120, 130, 140, 150)
    assert nice_axis([0, 40]).ticks == (0, 20, 40)
    assert nice_axis([0.82, 0.88]).label(0.84) == "0.84"
    assert nice_axis([5, 40]).ticks[0] == 0  # no negative axis under values that cannot be negative
    single = nice_axis([61.2], min_span=1)  # one value: an axis around it
    assert single.lo < 61.2 < single.hi and len(single.ticks) >= 2
    # A change in the last decimal (INR 1.32 to 1.33) spans a tenth of the axis, not all of it.
    inr = nice_axis([1.32, 1.33], min_span=0.1)
    assert inr.hi - inr.lo >= 0.1 and inr.label(inr.ticks[1]).count("0") <= 2 and len(inr.label(inr.lo)) == 4


def subset_tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("subset_fonts", ROOT / "tools" / "subset_fonts.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_label_glyphs_are_the_shipped_fonts_outlines() -> None:
    assert json.loads(TICK_GLYPHS.read_text()) == subset_tool().tick_glyphs()


def test_simplified_glyphs_keep_their_shapes() -> None:
    """Fewer points, same contours: no contour's area moves by more than its outline moved (at most the
    tolerance all along), so a lost hole or a cut corner would show."""
    tool = subset_tool()
    shipped = json.loads(TICK_GLYPHS.read_text())["glyphs"]
    for character in tool.TICK_CHARACTERS:
        pen = tool.OutlinePen(None)
        font_glyph(tool, character).draw(pen)
        original, simplified = contours(pen.commands), contours(shipped[character]["path"])
        assert len(original) == len(simplified), character
        for before, after in zip(original, simplified, strict=True):
            assert abs(area(after) - area(before)) <= tool.TOLERANCE * perimeter(before), character
        assert sum(len(c) for c in shipped[character]["path"]) < sum(len(c) for c in pen.commands), character


def font_glyph(tool, character: str):  # type: ignore[no-untyped-def]
    font = TTFont(tool.TARGET / "EproGothic-Regular.ttf")
    return font.getGlyphSet()[font.getBestCmap()[ord(character)]]


def contours(commands: list[list]) -> list[list[tuple[float, float]]]:  # type: ignore[type-arg]
    """Each contour's on-curve points."""
    found: list[list[tuple[float, float]]] = []
    for command in commands:
        if command[0] == "M":
            found.append([])
        if len(command) > 1:
            found[-1].append((float(command[-2]), float(command[-1])))
    return found


def edges(points: list[tuple[float, float]]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return list(zip(points, points[1:] + points[:1], strict=True))


def area(points: list[tuple[float, float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in edges(points)) / 2


def perimeter(points: list[tuple[float, float]]) -> float:
    return sum(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 for (x1, y1), (x2, y2) in edges(points))


def outline_bounds(d: str | None) -> tuple[list[float], list[float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d or "")]
    return numbers[0::2], numbers[1::2]


def width_of(d: str | None) -> float:
    xs, _ys = outline_bounds(d)
    return max(xs) - min(xs)


def measure_chart(report: Report, measure_code: str, label: str) -> Markup:
    """The SVG chart of one score, as the summary draws it; ``label`` is its accessible name."""
    return series_chart(
        report, measure_series(report, report.measures[report.measure_index(measure_code)]), label
    )
