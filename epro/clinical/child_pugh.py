"""Child-Pugh score and class, derived from five inputs, never typed.

The standard table (1 / 2 / 3 points each; score 5-15; class A 5-6, B 7-9, C 10-15):

- total bilirubin (mg/dL): < 2 / 2-3 / > 3
- albumin (g/dL): > 3.5 / 2.8-3.5 / < 2.8
- coagulation, by INR: < 1.7 / 1.7-2.3 / > 2.3; or by prothrombin time activity (%), as is usual in Korea and
  Japan: > 70 / 40-70 / < 40
- ascites: none / slight / moderate-severe
- hepatic encephalopathy: none / grade 1-2 / grade 3-4

Boundary values belong to the middle band (bilirubin 2.0 and 3.0, albumin 2.8 and 3.5, INR 1.7 and 2.3, PT 40
and 70 % all score 2 points).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

CATEGORY_POINTS = {
    "ASCITES": {"NONE": 1, "SLIGHT": 2, "MODSEV": 3},
    "ENCEPH": {"NONE": 1, "G1_2": 2, "G3_4": 3},
}
#: The measure codes the derivation reads (one of INR and PT is enough).
INPUTS = ("BILI", "ALB", "INR", "PT", "ASCITES", "ENCEPH")
COAGULATION = ("INR", "PT")


@dataclass(frozen=True, slots=True)
class ChildPugh:
    score: int
    #: "A", "B" or "C".
    grade: str
    #: Points per input measure code (BILI, ALB, INR or PT, ASCITES, ENCEPH).
    points: dict[str, int] = field(hash=False)
    #: The coagulation criterion used: "INR", or "PT" (prothrombin time activity, %).
    coagulation: str = "INR"


def _number(value: Decimal | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return None


def _band(value: Decimal, low: str, high: str, higher_is_worse: bool) -> int:
    """1, 2 or 3 points; low and high (inclusive) bound the middle band."""
    if value < Decimal(low):
        return 1 if higher_is_worse else 3
    if value > Decimal(high):
        return 3 if higher_is_worse else 1
    return 2


def _coagulation_points(code: str, value: Decimal) -> int:
    if code == "INR":
        return _band(value, "1.7", "2.3", higher_is_worse=True)
    return _band(value, "40", "70", higher_is_worse=False)


def grade_of(score: int) -> str:
    return "A" if score <= 6 else "B" if score <= 9 else "C"


def child_pugh(
    values: Mapping[str, Decimal | str | None], coagulation: Sequence[str] = COAGULATION
) -> ChildPugh | None:
    """The score from values keyed by measure code; None when an input is missing or not understood.

    The coagulation criterion is the first of `coagulation` (INR, else PT activity) that has a value.
    """
    bilirubin, albumin = _number(values.get("BILI")), _number(values.get("ALB"))
    measured = ((code, _number(values.get(code))) for code in coagulation)
    criterion, clotting = next(((code, n) for code, n in measured if n is not None), (None, None))
    if bilirubin is None or albumin is None or criterion is None or clotting is None:
        return None
    points = {
        "BILI": _band(bilirubin, "2", "3", higher_is_worse=True),
        "ALB": _band(albumin, "2.8", "3.5", higher_is_worse=False),
        criterion: _coagulation_points(criterion, clotting),
    }
    for code, table in CATEGORY_POINTS.items():
        category = values.get(code)
        if category not in table:
            return None
        points[code] = table[str(category)]
    score = sum(points.values())
    return ChildPugh(score=score, grade=grade_of(score), points=points, coagulation=criterion)
