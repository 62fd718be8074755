"""Domain errors, modelled once and rendered twice (problem details in ``api``, HTML in ``web``).

Each error has a stable ``code`` that clients and tests can rely on, and a ``kind`` that the
adapters map to an HTTP status. The domain never raises HTTP exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorKind(StrEnum):
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    GONE = "gone"
    UNAVAILABLE = "unavailable"
    TOO_MANY = "too_many_requests"


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: where it is (``loc``) and what is wrong with it (``msg``)."""

    loc: tuple[str | int, ...]
    msg: str
    code: str = "invalid"


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "domain_error"
    kind: ErrorKind = ErrorKind.INVALID
    title: str = "The request could not be processed"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = errors or []


class NotFound(DomainError):
    code = "not_found"
    kind = ErrorKind.NOT_FOUND
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    kind = ErrorKind.CONFLICT
    title = "Conflict"


class InvalidInput(DomainError):
    code = "invalid_input"
    kind = ErrorKind.INVALID
    title = "Invalid input"


class RateLimited(DomainError):
    """Too many requests of one kind: try again after ``retry_after`` seconds (429)."""

    code = "rate_limited"
    kind = ErrorKind.TOO_MANY
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


@dataclass
class RowProblem:
    """A problem found in one row of an imported file, named by row number and column."""

    row: int
    column: str
    message: str
    severity: str = "error"
    value: str | None = None


@dataclass
class ImportReport:
    """What an import did: rows created and updated, errors that blocked it, warnings."""

    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[RowProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[RowProblem]:
        return [p for p in self.problems if p.severity == "warning"]
