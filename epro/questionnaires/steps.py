"""The screens of a visit's questionnaire: one step per item, instruments in protocol order."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from epro import instruments
from epro.instruments import Instrument, Item
from epro.models import Visit


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    instrument: Instrument
    item: Item


def steps_for(visit: Visit) -> list[Step]:
    return steps_for_codes(visit.instruments)


def steps_for_codes(instrument_codes: str) -> list[Step]:
    """The steps of a visit whose instruments are `instrument_codes` (space-separated)."""
    return list(_steps(instrument_codes))


@cache
def _steps(instrument_codes: str) -> tuple[Step, ...]:
    """Built once per process and visit kind (instrument definitions ship with the code)."""
    steps: list[Step] = []
    for code in instrument_codes.split():
        instrument = instruments.current(code)
        for item in instrument.items:
            steps.append(Step(len(steps) + 1, instrument, item))
    return tuple(steps)
