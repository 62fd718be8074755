"""The OpenAPI document as the server really behaves: both ways to authenticate, declared, and
no NUL character in an address.

FastAPI declares the bearer token (the ``HTTPBearer`` dependency of every ``Require`` rule). A
browser session authenticates with the session cookie instead, and its state-changing requests
also need the session's CSRF token in ``X-CSRF-Token``; this module adds those two schemes and
gives every protected operation both alternatives, so a client (and schemathesis) can tell
which credentials an operation takes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.auth import SAFE_METHODS
from api.cookies import session_cookie_name
from api.settings import Settings
from surveys.schemas import NO_NUL_PATTERN

BEARER = "HTTPBearer"  # the name FastAPI gives the scheme of ``HTTPBearer``
SESSION = "sessionCookie"
CSRF = "csrfHeader"


def security_schemes(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        SESSION: {
            "type": "apiKey",
            "in": "cookie",
            "name": session_cookie_name(settings),
            "description": "The session of a signed-in user (set by the sign-in page). "
            "State-changing requests with it also need the CSRF token (csrfHeader).",
        },
        CSRF: {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
            "description": "The CSRF token of the session (the csrf_token field of every page "
            "form). Required with the session cookie on POST, PUT, PATCH and DELETE; "
            "not with a bearer token.",
        },
    }


def _refuse_nul(parameter_schema: dict[str, Any]) -> None:
    if parameter_schema.get("type") == "string" and not (
        {"pattern", "enum", "format", "const"} & parameter_schema.keys()
    ):
        parameter_schema["pattern"] = NO_NUL_PATTERN
    for option in parameter_schema.get("anyOf", []):
        _refuse_nul(option)


def declare_no_nul_in_addresses(schema: dict[str, Any]) -> dict[str, Any]:
    """A NUL character anywhere in the path or the query is refused (422) before routing, so
    every free-text parameter says so in its schema."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in {"path", "query"}:
                    _refuse_nul(parameter.get("schema", {}))
    return schema


def declare_authentication(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Add the cookie and CSRF schemes, and let every token-protected operation take either."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(security_schemes(settings))
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            requirements = operation.get("security") or []
            if not any(BEARER in requirement for requirement in requirements):
                continue
            session: dict[str, list[str]] = (
                {SESSION: []} if method.upper() in SAFE_METHODS else {SESSION: [], CSRF: []}
            )
            operation["security"] = [{BEARER: []}, session]
    return schema


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the completed document at the app's ``openapi_url`` (built once, then kept)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            declare_no_nul_in_addresses(schema)
            app.openapi_schema = declare_authentication(schema, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
