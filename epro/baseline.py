"""The one definition of baseline, used by the PDF summary, the study page and every export.

Baseline is derived by date, not by visit code: for each subject and measure, the last assessment with a
result (not missing, not NOT DONE) done on or before day 0 (the procedure date). A baseline questionnaire
transcribed late from paper keeps its true assessment date, so it is still the baseline; a "baseline" visit
actually done after the procedure is not. SDTM calls the flagged record QSBLFL = Y and, from SDTMIG 3.4,
--LOBXFL = Y (last observation before exposure); here both mark the same record.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def is_before_exposure(day0: date, assessed_on: date | None) -> bool:
    """An assessment counts towards baseline when it was done on or before day 0."""
    return assessed_on is not None and assessed_on <= day0


def baseline_key(day0: date, assessments: Iterable[tuple[Key, date | None, bool]]) -> Key | None:
    """Which of one subject's assessments of one measure is the baseline, or None.

    ``assessments`` are (key, assessment date, has a result). The latest date on or before day 0 wins;
    on the same date the one given last wins (pass them in visit order).
    """
    best: tuple[Key, date] | None = None
    for key, assessed_on, has_result in assessments:
        if not has_result or assessed_on is None or not is_before_exposure(day0, assessed_on):
            continue
        if best is None or assessed_on >= best[1]:
            best = (key, assessed_on)
    return None if best is None else best[0]
