from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.accounts_fixtures import sign_in
from tests.builders import make_centre


@pytest.fixture
def client(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    """The registry pages are for signed-in staff: these tests act as a coordinator."""
    sign_in(client, session_factory, role="coordinator")
    return client


class TestHomePage:
    def test_says_what_the_platform_does_and_counts_the_registry(self, client: TestClient) -> None:
        response = client.get("/")
        assert response.status_code == 200
        assert "hi-tech cancer care" in response.text
        assert "Innovative radiotherapy" in response.text
        assert 'lang="en"' in response.text


class TestCentrePages:
    def test_list_filter_and_detail(self, client: TestClient, session_factory) -> None:  # type: ignore[no-untyped-def]
        with session_factory() as session, session.begin():
            centre = make_centre(
                session, name="Instituto Português de Oncologia", country="PT", city="Porto"
            )
            public_id = centre.public_id
        page = client.get("/centres", params={"country": "PT"})
        assert page.status_code == 200
        assert "Instituto Português de Oncologia" in page.text
        assert "1 centre" in page.text
        detail = client.get(f"/centres/{public_id}")
        assert "Porto" in detail.text
        assert public_id in detail.text

    def test_user_text_is_escaped(self, client: TestClient, session_factory) -> None:  # type: ignore[no-untyped-def]
        payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
        with session_factory() as session, session.begin():
            public_id = make_centre(session, name=payload, country="MT", city="{{7*7}}").public_id
        for url in ("/centres?country=MT", f"/centres/{public_id}"):
            text = client.get(url).text
            assert "<script>alert(1)" not in text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
            assert "{{7*7}}" in text  # shown literally, never evaluated

    def test_a_bad_filter_keeps_the_input_and_explains(self, client: TestClient) -> None:
        response = client.get("/centres", params={"centre_type": "spaceship", "q": "Lyon"})
        assert response.status_code == 422
        assert "unknown centre type" in response.text
        assert 'value="Lyon"' in response.text

    def test_missing_centre_is_a_friendly_404_page(self, client: TestClient) -> None:
        response = client.get("/centres/not-a-centre")
        assert response.status_code == 404
        assert "No centre has the id" in response.text
        assert "Go to the overview" in response.text

    def test_api_docs_are_served_without_any_other_origin(self, client: TestClient) -> None:
        response = client.get("/api/docs")
        assert response.status_code == 200
        assert "http" not in response.text.replace('href="/openapi.json"', "")
        assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
        assert client.get("/vendor/leaflet/leaflet.js").status_code == 200
