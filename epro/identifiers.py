"""Study IDs that are what they look like.

Python's `\\d` matches any Unicode digit, so 'EPR-００１' (full-width) or 'EPR-٠٠٢' (Arabic-Indic) would be
registered beside 'EPR-001' and look the same on screen. A typed study ID is first normalised (NFKC:
full-width and mathematical letters and digits become their ASCII forms, so 'ＥＰＲ-００１' is 'EPR-001'),
upper-cased, and must then be plain ASCII matching the configured pattern (matched with re.ASCII).
"""

from __future__ import annotations

import re
import unicodedata


class InvalidStudyId(Exception):
    """The text is not a study ID: `reason` is "not_ascii" or "pattern"."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{text!r}: {reason}")
        self.reason = reason


def normalise_study_id(text: str, pattern: str) -> str:
    """The study ID in its one ASCII spelling, or InvalidStudyId."""
    normalised = unicodedata.normalize("NFKC", text).strip().upper()
    if not normalised.isascii():
        raise InvalidStudyId(text, "not_ascii")
    if not re.fullmatch(pattern, normalised, flags=re.ASCII):
        raise InvalidStudyId(text, "pattern")
    return normalised
