"""The OpenAPI document against the server: authentication schemes, ``Allow``, parameter schemas
and the problem documents (schemathesis covers the rest: tests/api/test_schemathesis_roles.py).

No database content matters here, so the app runs on SQLite only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.openapi import BEARER, CSRF, SESSION
from surveys.registry.countries import SURVEYED
from surveys.registry.models import CENTRE_TYPES
from tests.accounts_fixtures import sign_in
from tests.conftest import SessionDatabases, app_client, rolled_back, settings_for

PROBLEM = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def api(
    test_databases: SessionDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Any]]:
    url = test_databases.url("sqlite")
    with (
        rolled_back(test_databases.engine(url)) as factory,
        app_client(settings_for(url, tmp_path_factory.mktemp("openapi")), factory) as client,
    ):
        yield client, factory


@pytest.fixture(scope="module")
def schema(api: tuple[TestClient, Any]) -> dict[str, Any]:
    document: dict[str, Any] = api[0].get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    return document


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_both_ways_to_authenticate_are_declared(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes[BEARER] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes[BEARER]["description"],
    }
    assert (schemes[SESSION]["type"], schemes[SESSION]["in"]) == ("apiKey", "cookie")
    assert (schemes[CSRF]["in"], schemes[CSRF]["name"]) == ("header", "X-CSRF-Token")
    protected = 0
    for path, method, operation in operations(schema):
        security = operation.get("security")
        if not security:
            assert path in {"/health/live", "/health/ready", "/api/v1/countries"}, path
            continue
        protected += 1
        session = {SESSION: []} if method == "get" else {SESSION: [], CSRF: []}
        assert security == [{BEARER: []}, session], (method, path)
    assert protected > 40


def test_a_session_needs_its_csrf_header_only_to_change_something(
    api: tuple[TestClient, Any],
) -> None:
    client, factory = api
    signed = sign_in(client, factory, role="coordinator")
    try:
        assert client.get("/api/v1/me").status_code == 200
        body = {"name": "Contract token", "scopes": ["registry:read"], "days": 1}
        refused = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": "wrong"})
        assert refused.status_code == 403
        accepted = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": signed.csrf})
        assert accepted.status_code == 201
    finally:
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)


def test_allow_names_every_method_of_the_address(
    api: tuple[TestClient, Any], schema: dict[str, Any]
) -> None:
    client = api[0]
    several = 0
    for path, item in schema["paths"].items():
        documented = {m.upper() for m in item if m in METHODS}
        expected = documented | {"OPTIONS"}  # and HEAD, where the framework answers it
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        options = client.options(concrete)
        assert options.status_code == 204, path
        assert set(options.headers["allow"].split(", ")) - {"HEAD"} == expected, path
        missing = next(m for m in ("PUT", "DELETE", "PATCH", "POST") if m not in documented)
        refused = client.request(missing, concrete)
        assert refused.status_code == 405, (missing, path)
        assert set(refused.headers["allow"].split(", ")) - {"HEAD"} == expected, path
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["request_id"] == refused.headers["x-request-id"]
        several += len(documented) > 1
    assert several >= 7  # the paths where GET and POST are two routes


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("/api/v1/centres?centre_type=", 422),
        ("/api/v1/centres?centre_type=university_hospital", 200),
        ("/api/v1/centres?country=QQ", 200),  # a filter: no such country, no centre
        ("/api/v1/centres?country=QQQ", 422),
        ("/api/v1/audit-events?until=0.5", 422),
        ("/api/v1/audit-events?until=2026-11-29", 422),
        ("/api/v1/audit-events?until=2026-11-29T12:00:00Z", 200),
        ("/api/v1/audit-events?since=2026-11-29T12:00:00.5%2B01:00", 200),
    ],
)
def test_the_server_accepts_what_the_schema_says(
    api: tuple[TestClient, Any], schema: dict[str, Any], address: str, status: int
) -> None:
    client, factory = api
    sign_in(client, factory, role="admin")
    try:
        assert client.get(address).status_code == status, address
    finally:
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)


def test_the_schema_lists_the_values_the_server_accepts(schema: dict[str, Any]) -> None:
    def parameter(path: str, name: str) -> dict[str, Any]:
        found = next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)
        return found["schema"]  # type: ignore[no-any-return]

    centre_type = parameter("/api/v1/centres", "centre_type")
    assert set(centre_type["anyOf"][0]["enum"]) == set(CENTRE_TYPES)
    created = schema["components"]["schemas"]["CentreCreate"]["properties"]["country"]
    assert set(created["enum"]) >= SURVEYED
    assert parameter("/api/v1/audit-events", "until")["anyOf"][0]["format"] == "date-time"
    release_formats = parameter("/api/v1/releases/{release_id}/download", "format")["enum"]
    assert "geojson" not in release_formats
    token = schema["components"]["schemas"]["TokenCreate"]["properties"]["scopes"]["items"]
    assert "users:manage" not in token["enum"]


def test_every_problem_carries_its_request_id(api: tuple[TestClient, Any]) -> None:
    client = api[0]
    answers = [
        client.get("/api/v1/centres/%00"),  # refused by the first middleware
        client.post(
            "/api/v1/forms",
            content=b"x" * (50 * 1024 * 1024 + 1),
            headers={"content-type": "application/octet-stream"},
        ),
        client.get("/api/v1/no-such-thing"),
        client.get("/api/v1/centres"),  # 401
        client.delete("/api/v1/centres"),  # 405
    ]
    assert [a.status_code for a in answers] == [422, 413, 404, 401, 405]
    for answer in answers:
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers.get_list("x-request-id") == [answer.json()["request_id"]]


def test_the_api_reference_reads_openapi_3_1_from_local_assets(
    api: tuple[TestClient, Any],
) -> None:
    client = api[0]
    page = client.get("/api/docs")
    assert page.status_code == 200
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert all(src.startswith("/") for src in scripts + styles), scripts + styles
    bundle = client.get("/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', bundle.text)
    assert version, "the Swagger UI bundle no longer says its version"
    assert int(version.group(1)) >= 5  # Swagger UI reads OpenAPI 3.1 from 5.0 on
    assert client.get("/vendor/swagger-ui/swagger-ui.css").status_code == 200
    init = client.get("/static/js/api-docs.js").text
    assert "validatorUrl: null" in init  # the schema is not sent to an outside validator


def test_the_swagger_ui_assets_ship_with_the_package() -> None:
    import fastapi_offline

    folder = Path(fastapi_offline.__file__).parent / "static"
    assert (folder / "swagger-ui-bundle.js").is_file()
