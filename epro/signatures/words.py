"""Words and times for showing a signature state (pages and PDF share them)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from epro.signatures.state import SignatureFacts


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown (in the page's or PDF's language)."""
    return message


MEANINGS = {"reviewed": N_("Reviewed"), "approved": N_("Approved")}
STATUS = {
    "unsigned": N_("Not signed yet"),
    "signed": N_("Signed"),
    "superseded": N_("Superseded by a change"),
}


def clinic_moment(facts: SignatureFacts) -> datetime:
    """The signing time in the clinic's zone as recorded at signing (so its abbreviation prints)."""
    return datetime.fromisoformat(facts.signed_at_clinic).astimezone(ZoneInfo(facts.clinic_zone))


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def clinic_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")
