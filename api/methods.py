"""Which methods an address supports: the ``Allow`` header of 405 answers and of OPTIONS.

Starlette answers a method that no route of the path takes with 405 and the methods of the
*first* route whose path matched, so ``/api/v1/campaigns`` (GET and POST, two routes) said
``Allow: GET``. Here every route of the path counts. OPTIONS is answered for every routed path
with 204 and that list (RFC 9110, 9.3.7); nothing else happens on OPTIONS.
"""

from __future__ import annotations

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Scope


def allowed_methods(app: ASGIApp, scope: Scope) -> list[str]:
    """The methods the routes of the request's path take, with OPTIONS; empty if none."""
    methods: set[str] = set()
    for route in getattr(getattr(app, "router", None), "routes", []):
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods | {"OPTIONS"}) if methods else []
