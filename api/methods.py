"""Which methods an address supports: the ``Allow`` header of 405 answers and of OPTIONS.

Starlette answers a method that no route of the path takes with 405 and the methods of the
*first* route whose path matched, so ``/api/v1/campaigns`` (GET and POST, two routes) said
``Allow: GET``. Here every route of the path counts. OPTIONS is answered for every routed path
with 204 and that list (RFC 9110, 9.3.7); nothing else happens on OPTIONS.
"""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Scope


@lru_cache(maxsize=512)
def _pattern(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def allowed_methods(app: ASGIApp, scope: Scope) -> list[str]:
    """The methods the routes of the request's path take, with OPTIONS; empty if none."""
    path = scope.get("path", "")
    methods: set[str] = set()
    for route in iter_route_contexts(getattr(app, "routes", [])):
        if route.methods and route.path and _pattern(route.path).match(path):
            methods |= route.methods
    return sorted(methods | {"OPTIONS"}) if methods else []
