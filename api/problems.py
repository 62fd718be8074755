"""RFC 9457 problem details for the JSON API, rendered from domain errors and framework errors."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from surveys.errors import DomainError, ErrorKind, RateLimited

logger = logging.getLogger("accessgap.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_BY_KIND = {
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.INVALID: 422,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.GONE: 410,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.TOO_MANY: 429,
}

RETRY_AFTER_SECONDS = "5"


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str
    code: str = "invalid"


class Problem(BaseModel):
    """The body of every API error (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemError] = []
    request_id: str | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}}
    for status in (400, 401, 403, 404, 409, 413, 422, 503)
}


# Routes that may answer 429 (a rate limit) declare it on top of PROBLEM_RESPONSES.
RATE_LIMITED_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {
        "model": Problem,
        "content": {PROBLEM_MEDIA_TYPE: {}},
        "description": "Rate limited (`code: rate_limited`); `Retry-After` says how many "
        "seconds to wait.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
}


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    code: str,
    errors: list[ProblemError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=title,
        status=status,
        detail=detail,
        code=code,
        errors=errors or [],
        request_id=getattr(request.state, "request_id", None),
    )
    response = JSONResponse(
        problem.model_dump(),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )
    if problem.request_id:
        response.headers["X-Request-ID"] = problem.request_id
    return response


def from_domain_error(request: Request, exc: DomainError) -> JSONResponse:
    status = STATUS_BY_KIND[exc.kind]
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem_response(
        request,
        status=status,
        title=exc.title,
        detail=exc.detail,
        code=exc.code,
        errors=[ProblemError(loc=list(e.loc), msg=e.msg, code=e.code) for e in exc.errors],
        headers=headers,
    )


def from_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        ProblemError(loc=[str(part) for part in e.get("loc", ())], msg=str(e.get("msg", "")))
        for e in exc.errors()
    ]
    return problem_response(
        request,
        status=422,
        title="Invalid request",
        detail="The request does not match what this endpoint accepts; see errors.",
        code="validation_error",
        errors=errors,
    )


def from_http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
    return problem_response(
        request,
        status=exc.status_code,
        title=titles.get(exc.status_code, "Request failed"),
        detail=str(exc.detail),
        code=titles.get(exc.status_code, "http_error").lower().replace(" ", "_"),
        headers=getattr(exc, "headers", None),
    )


def from_database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
    logger.warning("database unavailable: %s", type(exc.orig).__name__)
    return problem_response(
        request,
        status=503,
        title="Service temporarily unavailable",
        detail="The database cannot be reached. Nothing was saved; please try again shortly.",
        code="database_unavailable",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def internal_error(request: Request) -> JSONResponse:
    return problem_response(
        request,
        status=500,
        title="Internal error",
        detail="Something went wrong on our side. Quote the request id when you report it.",
        code="internal_error",
    )


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database cannot be reached (as opposed to a bug in a query)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        markers = (
            "connection",
            "could not connect",
            "server closed",
            "unable to open",
            "readonly",
            "read-only",
            "disk",
            "terminating",
            "database is locked",
        )
        return any(marker in text for marker in markers)
    return False
