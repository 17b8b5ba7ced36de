"""The all-patients chart of one measure: one thin line per patient drawn, the mean at each visit overlaid.

Plain SVG with presentation attributes only (it renders in WeasyPrint and under the strict CSP), on the
study-day axis of the protocol's planned visit days; axis labels are font outlines, as in the per-patient
charts (epro.reports.charts, whose scale and tick helpers this reuses, read-only).
"""

from __future__ import annotations

import math
from xml.sax.saxutils import quoteattr

from markupsafe import Markup

from epro.reports.charts import DAY_STEPS, VALUE_STEPS, Scale, label_outline, ticks
from epro.study.overview import MeasureStats, VisitInfo

WIDTH, HEIGHT = 300, 170
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 8, 22
INK, MUTED, GRID, LINE = "#1f3f66", "#555555", "#d9d9d9", "#9aa7b5"


def value_range(stats: MeasureStats) -> tuple[int, int]:
    """The scale of a questionnaire, else the values' range rounded out to whole units."""
    measure = stats.measure
    if measure.scale_min is not None and measure.scale_max is not None:
        return int(measure.scale_min), int(measure.scale_max)
    values = [value for line in stats.lines for _code, value in line.points]
    values += [v.summary.mean for v in stats.visits if v.summary.mean is not None]
    if not values:
        return 0, 1
    lo, hi = math.floor(min(values)), math.ceil(max(values))
    return lo, max(hi, lo + 1)


def study_chart(stats: MeasureStats, visits: tuple[VisitInfo, ...], label: str) -> Markup:
    """``label`` is the chart's accessible name (already translated)."""
    days = {visit.code: visit.day for visit in visits}
    day_lo, day_hi = min([0, *days.values()]), max([1, *days.values()])
    value_lo, value_hi = value_range(stats)
    x = Scale(day_lo, day_hi, LEFT, WIDTH - RIGHT)
    y = Scale(value_lo, value_hi, HEIGHT - BOTTOM, TOP)
    value_ticks = ticks(value_lo, value_hi, VALUE_STEPS, 6)
    day_ticks = ticks(day_lo, day_hi, DAY_STEPS, 5)
    parts = [
        f'<path d="{"".join(f"M{LEFT},{y(v)}H{WIDTH - RIGHT}" for v in value_ticks)}" '
        f'stroke="{GRID}" stroke-width="0.6"/>',
        f'<path d="{"".join(f"M{x(d)},{HEIGHT - BOTTOM}v3" for d in day_ticks)}" '
        f'stroke="{MUTED}" stroke-width="0.6"/>',
    ]
    parts.extend(_label(LEFT - 4, y(v) + 3, v, "end") for v in value_ticks)
    parts.extend(_label(x(d), HEIGHT - BOTTOM + 12, d, "middle") for d in day_ticks)
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
        f'fill="none" stroke="{MUTED}" stroke-width="0.6"/>'
    )
    for line in stats.lines:
        points = " ".join(f"{x(days[code])},{y(value)}" for code, value in line.points if code in days)
        if " " in points:
            parts.append(
                f'<polyline class="patient-line" points="{points}" fill="none" stroke="{LINE}" '
                f'stroke-width="0.7"/>'
            )
    means = [(days[v.visit_code], v.summary.mean) for v in stats.visits if v.summary.mean is not None]
    if len(means) > 1:
        points = " ".join(f"{x(day)},{y(mean)}" for day, mean in means)
        parts.append(
            f'<polyline class="mean-line" points="{points}" fill="none" stroke="{INK}" stroke-width="2"/>'
        )
    parts.extend(
        f'<circle class="mean-point" cx="{x(day)}" cy="{y(mean)}" r="2.6" fill="{INK}"/>'
        for day, mean in means
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart study-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(label)} '
        f'data-measure="{stats.measure.code}">' + "".join(parts) + "</svg>"
    )


def _label(x: float, y: float, value: int, anchor: str) -> str:
    return f'<path d="{label_outline(x, y, str(value), anchor)}" fill="{MUTED}"/>'
