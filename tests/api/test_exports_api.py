"""The export and release routes: tokens, 401/403, streaming, audit, manifest, OpenAPI, CLI."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli import app as cli_app
from surveys import migrate
from surveys.accounts import tokens
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory, transaction
from surveys.policy import Permission, staff_actor
from surveys.registry.countries import seed_countries
from tests.accounts_fixtures import grant_every_campaign, issue_token, make_user, sign_in
from tests.surveys.exports.data import make_world

EXPORTS = "/api/v1/exports"


@pytest.fixture
def slug(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session, session.begin():
        return make_world(session, approve=2).campaign.slug


def researcher_token(
    session_factory: sessionmaker[Session], scopes: list[Permission] | None = None
) -> tuple[int, str]:
    with session_factory() as session, session.begin():
        user_id = make_user(session, role="researcher").id
        grant_every_campaign(session, user_id)
    return user_id, issue_token(
        session_factory, user_id, scopes or [Permission.EXPORT_PSEUDONYMISED]
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events(session_factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


class TestResearcherToken:
    def test_downloads_a_pseudonymised_zip_streamed_with_safe_headers(
        self, client: TestClient, session_factory: sessionmaker[Session], slug: str
    ) -> None:
        _, token = researcher_token(session_factory)
        response = client.get(f"{EXPORTS}/csv", params={"campaign": slug}, headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith("attachment; filename=")
        assert response.headers["cache-control"] == "no-store"
        assert "content-length" not in response.headers  # chunked: a cut stream shows
        with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
            main = bundle.read("nm_export.csv").decode()
        assert "contact_name" not in main
        assert "Secret Hospital" not in main

    def test_the_identified_export_is_403(
        self, client: TestClient, session_factory: sessionmaker[Session], slug: str
    ) -> None:
        _, token = researcher_token(session_factory)
        response = client.get(f"{EXPORTS}/csv/identified", headers=bearer(token))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "forbidden"

    def test_no_token_is_401_and_a_token_without_the_scope_is_403(
        self, client: TestClient, session_factory: sessionmaker[Session], slug: str
    ) -> None:
        assert client.get(f"{EXPORTS}/csv").status_code == 401
        _, narrow = researcher_token(session_factory, [Permission.REGISTRY_READ])
        assert client.get(f"{EXPORTS}/csv", headers=bearer(narrow)).status_code == 403

    def test_a_revoked_token_is_401(
        self, client: TestClient, session_factory: sessionmaker[Session], slug: str
    ) -> None:
        user_id, token = researcher_token(session_factory)
        with session_factory() as session, session.begin():
            owner = staff_actor(user_id=user_id, role="researcher")
            for row in tokens.list_tokens(session, owner):
                tokens.revoke(session, owner, row.id, request_id=None)
        assert client.get(f"{EXPORTS}/csv", headers=bearer(token)).status_code == 401

    def test_bad_filters_and_formats_are_422(
        self, client: TestClient, session_factory: sessionmaker[Session], slug: str
    ) -> None:
        _, token = researcher_token(session_factory)
        for url in (
            f"{EXPORTS}/pdf",
            f"{EXPORTS}/csv?submitted_from=2026-02-01&submitted_to=2026-01-01",
            f"{EXPORTS}/csv?status=draft",
            f"{EXPORTS}/csv?plain=true",
            f"{EXPORTS}/csv?language=xx",
        ):
            response = client.get(url, headers=bearer(token))
            assert response.status_code == 422, (url, response.text)
        assert client.get(f"{EXPORTS}/csv?campaign=nope", headers=bearer(token)).status_code == 404


class TestAudit:
    def test_n_exports_give_n_audit_rows_with_the_hashes_of_what_was_sent(
        self, client: TestClient, session_factory: sessionmaker[Session], slug: str
    ) -> None:
        user_id, token = researcher_token(session_factory)
        bodies = [
            client.get(f"{EXPORTS}/{fmt}", params={"campaign": slug}, headers=bearer(token))
            for fmt in ("csv", "csv-long", "datapackage")
        ]
        started = events(session_factory, "export.start")
        completed = events(session_factory, "export.complete")
        assert len(started) == len(completed) == 3
        for response, event in zip(bodies, completed, strict=True):
            details = event.details
            assert event.actor.startswith(f"user:{user_id}/token:")
            assert event.actor_role == "researcher"
            assert event.object_id == response.headers["x-export-id"]
            assert details["sha256"] == hashlib.sha256(response.content).hexdigest()
            assert details["pseudonymised"] is True
            assert details["campaign"] == slug
            assert details["filters"]["campaign"] == slug
            assert details["rows"] == 3

    def test_a_plain_csv_has_its_manifest_at_its_own_address(
        self, client: TestClient, session_factory: sessionmaker[Session], slug: str
    ) -> None:
        _, token = researcher_token(session_factory)
        response = client.get(f"{EXPORTS}/csv-long?plain=true", headers=bearer(token))
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        export_id = response.headers["x-export-id"]
        manifest = client.get(f"{EXPORTS}/{export_id}/manifest", headers=bearer(token)).json()
        assert manifest["archive"]["sha256"] == hashlib.sha256(response.content).hexdigest()
        assert manifest["tables"][0]["rows"] == response.text.count("\r\n") - 1 - 3
        _, stranger = researcher_token(session_factory)
        assert (
            client.get(f"{EXPORTS}/{export_id}/manifest", headers=bearer(stranger)).status_code
            == 404
        )
        coordinator, _ = sign_in(client, session_factory, role="coordinator"), None
        assert coordinator.role == "coordinator"
        assert client.get(f"{EXPORTS}/{export_id}/manifest").status_code == 200


class TestReleases:
    def test_a_coordinator_freezes_and_a_researcher_lists_and_downloads(
        self,
        client: TestClient,
        client_as,  # type: ignore[no-untyped-def]
        session_factory: sessionmaker[Session],
        slug: str,
    ) -> None:
        coordinator, _ = client_as("coordinator")
        created = coordinator.post("/api/v1/releases", json={"campaign": slug})
        assert created.status_code == 201, created.text
        release = created.json()
        assert created.headers["location"] == f"/api/v1/releases/{release['id']}"
        assert (release["number"], release["record_count"]) == (1, 2)
        _, token = researcher_token(session_factory)
        listed = client.get("/api/v1/releases", params={"campaign": slug}, headers=bearer(token))
        assert [r["id"] for r in listed.json()] == [release["id"]]
        assert client.post(
            "/api/v1/releases", json={"campaign": slug}, headers=bearer(token)
        ).status_code in (401, 403)
        got = client.get(f"/api/v1/releases/{release['id']}/download", headers=bearer(token))
        assert got.status_code == 200
        with zipfile.ZipFile(io.BytesIO(got.content)) as bundle:
            manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["release"]["citation"] == release["citation"]
        assert client.get("/api/v1/releases/999999", headers=bearer(token)).status_code == 404
        assert len(events(session_factory, "release.create")) == 1


def test_openapi_documents_the_routes_and_their_problems(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/v1/exports/{format}",
        "/api/v1/exports/{format}/identified",
        "/api/v1/exports/{export_id}/manifest",
        "/api/v1/releases",
        "/api/v1/releases/{release_id}",
        "/api/v1/releases/{release_id}/download",
    ):
        operation = schema["paths"][path]["get"]
        for status in ("401", "403", "404", "422"):
            content = operation["responses"][status]["content"]
            assert "application/problem+json" in content
            refs = [c.get("schema", {}).get("$ref", "") for c in content.values()]
            assert any(ref.endswith("/Problem") for ref in refs), (path, status, content)
    download = schema["paths"]["/api/v1/exports/{format}"]["get"]["responses"]["200"]
    assert "application/zip" in download["content"]


def test_the_command_line_writes_an_export_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", url)
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        seed_countries(session)
        slug = make_world(session).campaign.slug
    engine.dispose()
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli_app,
        ["export", "--format", "datapackage", "--out", str(out), "--campaign", slug],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["responses"] == 3
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    refused = CliRunner().invoke(
        cli_app, ["export", "--format", "csv", "--out", str(out), "--campaign", "nope"]
    )
    assert refused.exit_code == 1
