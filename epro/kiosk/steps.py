"""The screens of a visit's questionnaire: one step per item, instruments in protocol order."""

from __future__ import annotations

from dataclasses import dataclass

from epro import instruments
from epro.instruments import Instrument, Item
from epro.models import Visit


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    instrument: Instrument
    item: Item


def steps_for(visit: Visit) -> list[Step]:
    steps: list[Step] = []
    for code in visit.instruments.split():
        instrument = instruments.current(code)
        for item in instrument.items:
            steps.append(Step(len(steps) + 1, instrument, item))
    return steps
