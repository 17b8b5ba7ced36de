"""The states of a questionnaire session. A visit has at most one session that is not cancelled."""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    #: Replaced by a staff entry; its drafts stay as they were.
    CANCELLED = "cancelled"
