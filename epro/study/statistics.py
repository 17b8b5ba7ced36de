"""Descriptive statistics by numpy, on values the database has already grouped.

The database returns each distinct value with how often it occurs (GROUP BY), so what crosses into Python
grows with the number of distinct values, not with the number of patients; numpy expands each group and
computes mean, SD (n - 1), median and quartiles (linear interpolation between order statistics, numpy's
default, the same as R's type 7 and Excel's QUARTILE.INC).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import numpy as np

from epro.study.overview import Summary

Frequencies = Iterable[tuple[float | int | Decimal, int]]


def _expand(frequencies: Frequencies) -> np.ndarray:
    pairs = list(frequencies)
    if not pairs:
        return np.empty(0)
    values = np.fromiter((float(value) for value, _count in pairs), dtype=float, count=len(pairs))
    counts = np.fromiter((int(count) for _value, count in pairs), dtype=np.int64, count=len(pairs))
    return np.repeat(values, counts)


def summarise(frequencies: Frequencies) -> Summary:
    data = _expand(frequencies)
    if data.size == 0:
        return Summary(0)
    q1, median, q3 = (float(q) for q in np.percentile(data, [25, 50, 75]))
    return Summary(
        n=int(data.size),
        mean=float(np.mean(data)),
        sd=float(np.std(data, ddof=1)) if data.size > 1 else None,
        median=median,
        q1=q1,
        q3=q3,
        low=float(np.min(data)),
        high=float(np.max(data)),
    )
