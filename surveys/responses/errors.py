"""What can go wrong with a response, each with its stable code (rendered as 404, 409 or 422)."""

from __future__ import annotations

from surveys.errors import Conflict, FieldError, InvalidInput, NotFound
from surveys.questionnaires.answers import ValidatedAnswers
from surveys.responses.models import Response
from surveys.retry import RetryableConflict


class ResponseNotFound(NotFound):
    code = "response_not_found"


class StaleVersion(Conflict):
    code = "stale_version"
    title = "Someone else saved this questionnaire"

    def __init__(self, detail: str, *, current: Response) -> None:
        super().__init__(detail)
        self.current = current

    @classmethod
    def behind(cls, response: Response, expected: int) -> StaleVersion:
        """The refusal of a write that names version ``expected`` of a response now further on."""
        when = response.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        return cls(
            f"Someone else saved this questionnaire at {when}; your copy (version {expected}) is "
            "out of date.",
            current=response,
        )


class SubmissionConflict(Conflict):
    code = "submission_conflict"


class AlreadyFinalised(Conflict):
    code = "already_finalised"


class RequestInProgress(Conflict):
    code = "request_in_progress"


class RaceLostInSnapshot(RetryableConflict, RequestInProgress):
    """A uniqueness race lost to a transaction that committed after this one's snapshot.

    At REPEATABLE READ (and at SERIALIZABLE when PostgreSQL reports the unique violation rather
    than a serialization failure) the winner stays invisible to every query of this
    transaction, so it cannot tell a replay from ``already_finalised``. ``run_transaction``
    runs the work again, and the new snapshot can; where it is not retried, it is the usual
    409 ``request_in_progress``.
    """

    sqlstate = "23505"


class Withdrawn(Conflict):
    code = "response_withdrawn"


class InvalidAnswers(InvalidInput):
    code = "invalid_answers"
    title = "Some answers need attention"

    def __init__(self, validated: ValidatedAnswers) -> None:
        super().__init__(
            f"{len(validated.errors)} answer(s) need attention; see errors.",
            errors=[FieldError(e.loc, e.message, e.code) for e in validated.errors],
        )
        self.validated = validated
