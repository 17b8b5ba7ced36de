"""What a questionnaire change refuses. Each is a named exception the views map to a translated message;
the change has flushed nothing the caller must keep (it rolls back)."""

from __future__ import annotations

from datetime import date


class QuestionnaireError(Exception):
    """A change the session's or the answer's current state does not allow."""


class AlreadySubmitted(QuestionnaireError):
    """The visit's questionnaires are already submitted (a double tap, a replayed form, a second entry),
    so the session can be neither resumed nor submitted again."""


class AnswerNotAChoice(QuestionnaireError):
    """An answer that is not one of the item's choices."""

    def __init__(self, item_code: str, value: int) -> None:
        super().__init__(item_code, value)
        self.item_code, self.value = item_code, value


class UnansweredItems(QuestionnaireError):
    """A submission while some items have no answer yet."""


class AnswerUnchanged(QuestionnaireError):
    """A correction to the value the answer already has."""


class AssessmentDateOutOfRange(QuestionnaireError):
    """A transcribed assessment date before day 0 minus ASSESSMENT_LOOKBACK_DAYS, or after today."""

    def __init__(self, earliest: date, latest: date) -> None:
        super().__init__(earliest, latest)
        self.earliest, self.latest = earliest, latest
