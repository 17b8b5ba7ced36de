"""The one definition of a visit's name: the label its code has in the patient's own protocol version.

The page, the PDF, the study page and every export ask here, so a patient enrolled under an older protocol
version reads the same visit names everywhere, whatever protocol is configured for new enrolments.
"""

from __future__ import annotations

from functools import cache

from epro.schedule import load_protocol
from epro.text import Text


@cache
def visit_label(protocol_code: str, protocol_version: str | None, visit_code: str) -> Text:
    """The visit's label in both languages; the code itself for a visit the protocol does not name."""
    try:
        return load_protocol(protocol_code, protocol_version).visit(visit_code).label
    except StopIteration:
        return Text(ko=visit_code, en=visit_code)
