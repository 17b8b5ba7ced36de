"""How the overview's numbers read, on the page, in the printed report and in the CSV alike."""

from __future__ import annotations

import threading

from markupsafe import Markup

from epro.codes import N_
from epro.reports.view import ReportView
from epro.study import charts
from epro.study.overview import Change, MeasureStats, StudyOverview, Summary

MISSING = "—"


def number(value: float | None, places: int) -> str:
    """Fixed places, a minus sign for negatives, a dash for a missing value (never 0)."""
    if value is None:
        return MISSING
    text = f"{value:.{places}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def mean_sd(summary: Summary | Change, places: int) -> str:
    if summary.mean is None:
        return MISSING
    return f"{number(summary.mean, places)} ± {number(summary.sd, places)}"


def median_iqr(summary: Summary, places: int) -> str:
    if summary.median is None:
        return MISSING
    return f"{number(summary.median, places)} ({number(summary.q1, places)}–{number(summary.q3, places)})"


def places(stats: MeasureStats) -> int:
    """Means, SDs and quartiles get one more place than single values."""
    return stats.measure.decimals + 1


_page_charts: dict[tuple[int, str, str], Markup] = {}
_page_charts_of: list[StudyOverview] = []
_lock = threading.Lock()


def chart(view: ReportView, overview: StudyOverview, stats: MeasureStats) -> Markup:
    """Inline SVG on the page (kept while the overview stays cached); an SVG image in print (WeasyPrint
    draws it with its own parser)."""
    if view.printed:
        return _chart(view, overview, stats)
    key = (id(overview), stats.measure.code, view.html_lang)
    with _lock:
        if not _page_charts_of or _page_charts_of[0] is not overview:
            _page_charts.clear()
            _page_charts_of[:] = [overview]
        found = _page_charts.get(key)
    if found is None:
        found = _chart(view, overview, stats)
        with _lock:
            if _page_charts_of and _page_charts_of[0] is overview:
                _page_charts[key] = found
    return found


def _chart(view: ReportView, overview: StudyOverview, stats: MeasureStats) -> Markup:
    from epro.reports.charts import data_uri

    label = view.plain(
        N_("%(measure)s: every patient's values by study day, with the mean at each visit"),
        measure=stats.measure.name(view.html_lang),
    )
    svg = charts.study_chart(stats, overview.visits, label)
    if view.printed:
        return Markup('<img class="chart" src="{}" alt="{}">').format(data_uri(svg), label)
    return svg


HELPERS = {"number": number, "mean_sd": mean_sd, "median_iqr": median_iqr, "places": places, "chart": chart}
