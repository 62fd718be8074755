from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Environment, Settings


class TestHealth:
    def test_live_and_ready(self, client: TestClient) -> None:
        assert client.get("/health/live").json() == {"status": "ok"}
        assert client.get("/health/ready").json() == {"status": "ok", "database": "ok"}

    def test_ready_is_503_when_the_database_is_unreachable(self) -> None:
        settings = Settings(
            environment=Environment.TEST,
            database_url="postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1",
        )
        with TestClient(create_app(settings)) as client:
            response = client.get("/health/ready")
            assert response.status_code == 503
            assert response.headers["retry-after"]
            assert client.get("/health/live").status_code == 200
            api = client.get("/api/v1/countries")
            assert api.status_code == 503
            assert api.json()["code"] == "database_unavailable"


class TestErrors:
    @pytest.fixture
    def failing_client(self, client: TestClient) -> TestClient:
        router = APIRouter()

        @router.get("/api/v1/boom")
        def boom() -> None:
            raise RuntimeError("secret detail /etc/passwd SELECT * FROM user_account")

        @router.get("/boom")
        def boom_page() -> None:
            raise RuntimeError("secret detail /etc/passwd SELECT * FROM user_account")

        client.app.include_router(router)  # type: ignore[attr-defined]
        return client

    def test_unhandled_api_error_is_a_problem_without_internals(
        self, failing_client: TestClient
    ) -> None:
        response = failing_client.get("/api/v1/boom")
        assert response.status_code == 500
        body = response.json()
        assert body["title"] == "Internal error"
        assert body["request_id"] == response.headers["x-request-id"]
        for leak in ("secret", "/etc/passwd", "SELECT", "Traceback"):
            assert leak not in response.text

    def test_unhandled_page_error_is_an_html_page_without_internals(
        self, failing_client: TestClient
    ) -> None:
        response = failing_client.get("/boom")
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        assert "Internal error" in response.text
        for leak in ("secret", "/etc/passwd", "SELECT", "Traceback"):
            assert leak not in response.text

    def test_unknown_page_is_an_html_404_and_unknown_api_route_a_problem(
        self, client: TestClient
    ) -> None:
        page = client.get("/no/such/page")
        assert page.status_code == 404
        assert "Page not found" in page.text
        assert "uvicorn" not in page.text.lower()
        api = client.get("/api/v1/nothing")
        assert api.status_code == 404
        assert api.headers["content-type"] == "application/problem+json"


class TestSecurityHeaders:
    def test_every_html_page_has_them(self, client: TestClient) -> None:
        response = client.get("/")
        csp = response.headers["content-security-policy"]
        assert "object-src 'none'" in csp
        assert "base-uri 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self' 'nonce-" in csp
        assert "http" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


class TestSettings:
    def test_production_refuses_default_secrets(self) -> None:
        with pytest.raises(ValueError, match="ACCESSGAP_SECRET_KEY must be set"):
            Settings(environment=Environment.PRODUCTION)

    def test_environment_variables_use_the_prefix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ACCESSGAP_DATABASE_URL", "sqlite:///elsewhere.sqlite3")
        assert Settings().database_url == "sqlite:///elsewhere.sqlite3"
