from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.accounts_fixtures import sign_in

PROBLEM = "application/problem+json"


@pytest.fixture
def client(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    """The registry is for signed-in staff: these tests act as a coordinator."""
    sign_in(client, session_factory, role="coordinator")
    return client


def create(client: TestClient, **fields: object) -> dict[str, object]:
    body = {"name": "Karolinska", "country": "SE", "city": "Stockholm", **fields}
    response = client.post("/api/v1/centres", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


class TestCentreRoutes:
    def test_create_read_update_list(self, client: TestClient) -> None:
        created = create(client, latitude=59.35, longitude=18.03)
        location = f"/api/v1/centres/{created['id']}"
        assert client.get(location).json()["name"] == "Karolinska"

        patched = client.patch(location, json={"version": 1, "centre_type": "university_hospital"})
        assert patched.status_code == 200
        assert patched.json()["version"] == 2

        listed = client.get("/api/v1/centres", params={"country": "SE", "per_page": 10}).json()
        assert listed["total"] == 1
        assert listed["items"][0]["centre_type"] == "university_hospital"

    def test_stale_update_is_a_409_problem(self, client: TestClient) -> None:
        created = create(client)
        url = f"/api/v1/centres/{created['id']}"
        assert client.patch(url, json={"version": 1, "city": "Solna"}).status_code == 200
        stale = client.patch(url, json={"version": 1, "city": "Huddinge"})
        assert stale.status_code == 409
        assert stale.headers["content-type"] == PROBLEM
        assert stale.json()["code"] == "stale_version"
        assert client.get(url).json()["city"] == "Solna"

    def test_unknown_country_names_the_field(self, client: TestClient) -> None:
        response = client.post("/api/v1/centres", json={"name": "X", "country": "QQ"})
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "unknown_country"
        assert body["errors"][0]["loc"] == ["country"]

    def test_nul_bytes_are_refused_the_same_way_on_both_databases(self, client: TestClient) -> None:
        response = client.post("/api/v1/centres", json={"name": "A\u0000B", "country": "FR"})
        assert response.status_code == 422
        assert "contains a NUL character" in response.json()["errors"][0]["msg"]

    def test_unicode_round_trips(self, client: TestClient) -> None:
        name = "Ośrodek 🩺 مركز e\u0301 \U0001f9ec\r\nline"
        created = create(client, name=name)
        assert client.get(f"/api/v1/centres/{created['id']}").json()["name"] == name.strip()

    def test_missing_and_odd_ids_are_404(self, client: TestClient) -> None:
        for odd in ("99999999999999999999", "-1", "abc", "..%2F..%2Fetc"):
            response = client.get(f"/api/v1/centres/{odd}")
            assert response.status_code == 404, odd
            assert response.json()["code"] in {"centre_not_found", "not_found"}

    def test_a_nul_in_the_address_is_a_422_never_a_500(self, client: TestClient) -> None:
        for url in ("/api/v1/centres/a%00b", "/api/v1/centres?q=a%00b", "/centres?q=%00"):
            response = client.get(url)
            assert response.status_code == 422, url
            assert response.json()["errors"][0]["msg"] == "contains a NUL character"

    def test_bad_paging_is_a_422_problem(self, client: TestClient) -> None:
        response = client.get("/api/v1/centres", params={"per_page": 0})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "per_page"]

    def test_oversized_body_is_413(self, client: TestClient) -> None:
        response = client.post(
            "/api/v1/centres",
            content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"

    def test_countries_include_eu_eea_and_candidates(self, client: TestClient) -> None:
        countries = {c["iso2"]: c for c in client.get("/api/v1/countries").json()}
        assert len([c for c in countries.values() if c["eu_member"]]) == 27
        assert countries["NO"]["eea_member"]
        assert not countries["NO"]["eu_member"]
        assert countries["UA"]["eu_candidate"]
        assert {"CH", "GB", "IS", "LI"} <= countries.keys()
