"""A list shown up to a limit, with how many there are: the clinic list's sections and its "needs review"
worklist, whose cost must follow what a nurse can act on, not the size of the study."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)  # not slots=True: with Generic it raises "super(type, obj)" TypeError on Python 3.11
class Capped(Generic[T]):
    rows: list[T]
    #: How many there are, counted up to the limit + 1 (so "more than shown" is known, not the total).
    count: int

    @property
    def more(self) -> bool:
        return self.count > len(self.rows)
