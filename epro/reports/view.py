"""How the report's plain data reads in one language, or in two side by side (the bilingual edition).

The PDF and the patient page both render through a ReportView: one code path for the charts and the
change-from-baseline table. Dates are ISO (YYYY-MM-DD), which reads the same in Korean and English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import force_locale, get_translations
from markupsafe import Markup, escape

from epro.clinical.measures import Measure as ClinicalMeasure
from epro.codes import LANGUAGES, N_, SEX_WORDS, VISIT_STATUS_WORDS, Sex
from epro.reports import charts
from epro.reports.context import Direction, IndexValue, Measure, Report, Score, VisitLine
from epro.schedule import VisitStatus
from epro.text import Text

EDITIONS = (*LANGUAGES, "both")
MEASURE_SHORT = {"PS": N_("Performance status"), "WB": N_("Well-being"), "QOL": N_("Quality of life")}
EDITION_WORDS = {"ko": N_("Korean"), "en": N_("English"), "both": N_("Korean and English")}
PAGE_OF = N_("Page %(page)s of %(pages)s")
CHILD_PUGH = N_("Child-Pugh score")
#: Charts a row in the printed panel (templates/pdf/summary.css lays them out).
PANEL_COLUMNS = 3
FLAG_SYMBOL = {Direction.UP: "▲", Direction.DOWN: "▼"}
MISSING = "—"


@dataclass(frozen=True, slots=True)
class PanelChart:
    """One chart of the panel with its caption: code, name, unit (or scale), threshold."""

    code: str
    name: Markup
    unit: str
    threshold: int | None
    chart: Markup


def _translator(language: str) -> Callable[[str], str]:
    with force_locale(language):
        return get_translations().gettext


@dataclass(frozen=True)
class ReportView:
    """Wording and formatting for one edition: "ko", "en" or "both"."""

    edition: str
    _translators: tuple[tuple[str, Callable[[str], str]], ...]
    #: For the PDF: charts as images, and the fewest elements (each one costs WeasyPrint time).
    printed: bool = False

    @classmethod
    def for_edition(cls, edition: str, *, printed: bool = False) -> ReportView:
        if edition not in EDITIONS:
            raise ValueError(f"unknown edition {edition!r}")
        languages = LANGUAGES if edition == "both" else (edition,)
        return cls(edition, tuple((language, _translator(language)) for language in languages), printed)

    @property
    def bilingual(self) -> bool:
        return len(self._translators) > 1

    @property
    def html_lang(self) -> str:
        return self._translators[0][0]

    def gettext(self, message: str, **variables: Any) -> Markup:
        """The message in the edition's language(s); in the bilingual edition, Korean then English."""
        return self._join([(lang, translate(message)) for lang, translate in self._translators], variables)

    def text(self, value: Text) -> Markup:
        """Bilingual text from a data file (visit labels, instrument names)."""
        return self._join([(lang, value(lang)) for lang, _t in self._translators], {})

    def plain(self, message: str, **variables: Any) -> str:
        """The message as plain text in the first language (for attributes such as aria-label)."""
        text = self._translators[0][1](message)
        return text % variables if variables else text

    def _join(self, parts: list[tuple[str, str]], variables: dict[str, Any]) -> Markup:
        rendered = [escape(text % variables if variables else text) for _lang, text in parts]
        if not self.bilingual:
            return Markup(rendered[0])
        return (
            Markup('<span class="bi">')
            + Markup("").join(
                Markup('<span lang="{}">{}</span>').format(lang, text)
                for (lang, _t), text in zip(parts, rendered, strict=True)
            )
            + Markup("</span>")
        )

    # Values -----------------------------------------------------------------------------------------------

    def status(self, status: VisitStatus) -> Markup:
        return self.gettext(VISIT_STATUS_WORDS[status])

    def sex(self, sex: str) -> Markup:
        return self.gettext(SEX_WORDS[Sex(sex)])

    def measure_name(self, measure: Measure) -> Markup:
        return self.text(measure.name)

    def measure_short(self, measure: Measure) -> Markup:
        word = MEASURE_SHORT.get(measure.code)
        return self.gettext(word) if word else self.text(measure.name)

    @staticmethod
    def date(value: date | None) -> str:
        return MISSING if value is None else value.isoformat()

    @staticmethod
    def moment(value: datetime) -> str:
        return value.strftime("%Y-%m-%d %H:%M %Z")

    @staticmethod
    def value(value: int | Decimal | None) -> str:
        return MISSING if value is None else str(value)

    def index_value(self, index: ClinicalMeasure, value: IndexValue) -> Markup | str:
        """A clinical value as tabulated: the number with the measure's decimals, or the category's label."""
        if value.label is not None:
            return self.text(value.label)
        if value.number is None:
            return MISSING
        return f"{value.number:.{index.decimals}f}"

    @staticmethod
    def index_rows(report: Report) -> list[VisitLine]:
        """The visits the clinical-index table lists: those with a value, and the missed or overdue."""
        return [
            visit
            for visit in report.visits
            if visit.values or visit.status in (VisitStatus.MISSED, VisitStatus.OVERDUE)
        ]

    @staticmethod
    def child_pugh_criteria(report: Report) -> list[str]:
        """The coagulation criteria (INR, PT) the visits' Child-Pugh scores used, in that order."""
        used = {visit.child_pugh.coagulation for visit in report.visits if visit.child_pugh is not None}
        return [code for code in ("INR", "PT") if code in used]

    @staticmethod
    def any_out_of_range(report: Report) -> bool:
        return any(value.out_of_range for visit in report.visits for value in visit.values.values())

    @staticmethod
    def signed(value: int | None) -> str:
        if value is None:
            return MISSING
        return f"+{value}" if value > 0 else str(value)

    @staticmethod
    def flag_symbol(score: Score) -> str:
        return FLAG_SYMBOL[score.flag] if score.flag else ""

    def window(self, before: int, after: int) -> str:
        if before == after:
            return f"±{before}"
        return f"-{before}/+{after}"

    def edition_name(self) -> Markup:
        return self.edition_word(self.edition)

    def edition_word(self, edition: str) -> Markup:
        return self.gettext(EDITION_WORDS[edition])

    def page_counter_css(self) -> Markup:
        """CSS ``content`` for "page X of Y" in the edition's language(s), for an @page margin box."""
        pieces = []
        for _lang, translate in self._translators:
            words = translate(PAGE_OF) % {"page": "\0page\0", "pages": "\0pages\0"}
            for piece in words.split("\0"):
                if piece in ("page", "pages"):
                    pieces.append(f"counter({piece})")
                elif piece:
                    pieces.append('"' + piece.replace("\\", "\\\\").replace('"', '\\"') + '"')
            pieces.append('" · "')
        return Markup(" ".join(pieces[:-1]))

    @staticmethod
    def flag_thresholds(report: Report) -> list[tuple[int, list[str]]]:
        """Each threshold with the codes of the measures that use it, in protocol order."""
        groups: dict[int, list[str]] = {}
        for measure in report.measures:
            if measure.threshold:
                groups.setdefault(measure.threshold, []).append(measure.code)
        return list(groups.items())

    def panel(self, report: Report) -> list[PanelChart]:
        """The panel's charts: every score, every clinical index that has a value (in measure-set order),
        and the Child-Pugh score when one was derived, all on the report's study-day axis. In print the
        panel has PANEL_COLUMNS columns and only the lowest chart of each carries the visit codes."""
        entries: list[tuple[charts.Series, Markup, str, str, int | None]] = [
            (
                charts.measure_series(report, measure),
                self.text(measure.name),
                measure.name(self.html_lang),
                f"{measure.scale_min}–{measure.scale_max}{measure.unit}",
                measure.threshold,
            )
            for measure in report.measures
        ]
        for index in report.indices:
            if index.is_number:
                series = charts.index_series(report, index.code)
                if series.has_values:
                    entries.append(
                        (series, self.text(index.name), index.name(self.html_lang), index.unit, None)
                    )
        child_pugh = charts.child_pugh_series(report)
        if child_pugh.has_values:
            name = self.gettext(CHILD_PUGH)
            entries.append((child_pugh, name, self.plain(CHILD_PUGH), "5–15", None))
        last_row = len(entries) - PANEL_COLUMNS
        return [
            self._panel_chart(report, entry, labelled=not self.printed or position >= last_row)
            for position, entry in enumerate(entries)
        ]

    def _panel_chart(
        self, report: Report, entry: tuple[charts.Series, Markup, str, str, int | None], *, labelled: bool
    ) -> PanelChart:
        series, name, plain_name, unit, threshold = entry
        label = self.plain("%(measure)s over study days", measure=plain_name)
        svg = charts.chart(report, series, label, labelled=labelled)
        if self.printed:
            svg = Markup('<img class="chart" src="{}" alt="{}">').format(charts.data_uri(svg), label)
        return PanelChart(series.code, name, unit, threshold, svg)
