from __future__ import annotations

import io
import time
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.accounts_fixtures import sign_in

FORM = b"""
| survey |
|        | type              | name    | label::en | label::fr | relevant           |
|        | select_one yes_no | has_pet | PET/CT?   | TEP/TDM ? |                    |
|        | integer           | units   | Units     | Unites    | ${has_pet} = 'yes' |
| choices |
|         | list_name | name | label::en | label::fr |
|         | yes_no    | yes  | Yes       | Oui       |
|         | yes_no    | no   | No        | Non       |
| settings |
|          | form_id | version | title::en | title::fr |
|          | pet     | 1       | PET       | TEP       |
"""


@pytest.fixture
def client(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    """Questionnaires are managed by coordinators: these tests act as one."""
    sign_in(client, session_factory, role="coordinator")
    return client


def upload(client: TestClient, url: str, data: bytes, name: str = "pet.md") -> object:
    return client.post(url, files={"file": (name, data, "text/markdown")})


class TestFormRoutes:
    def test_validate_import_publish_export_diff(self, client: TestClient) -> None:
        report = client.post("/api/v1/forms/validate", files={"file": ("pet.md", FORM)}).json()
        assert report == {"ok": True, "errors": [], "warnings": []}

        created = client.post("/api/v1/forms", files={"file": ("pet.md", FORM)})
        assert created.status_code == 201
        assert created.headers["location"] == "/api/v1/forms/pet/versions/1"
        assert created.json()["status"] == "draft"
        again = client.post("/api/v1/forms", files={"file": ("pet.md", FORM)})
        assert again.status_code == 200

        published = client.post("/api/v1/forms/pet/versions/1/publish")
        assert published.json()["status"] == "published"

        exported = client.get("/api/v1/forms/pet/versions/1/export", params={"format": "xlsx"})
        assert exported.headers["content-disposition"] == 'attachment; filename="pet-1.xlsx"'
        workbook = openpyxl.load_workbook(io.BytesIO(exported.content))
        assert workbook.sheetnames[:3] == ["survey", "choices", "settings"]

        v2 = FORM.replace(b"| 1       |", b"| 2       |").replace(
            b"| Units     |", b"| Units now |"
        )
        assert client.post("/api/v1/forms", files={"file": ("pet.md", v2)}).status_code == 201
        diff = client.get("/api/v1/forms/pet/diff", params={"from": "1", "to": "2"}).json()
        assert list(diff["changed_questions"]) == ["units"]
        versions = client.get("/api/v1/forms/pet/versions").json()
        assert [v["version"] for v in versions] == ["1", "2"]
        listed = {f["form_id"]: f for f in client.get("/api/v1/forms").json()}
        assert listed["pet"]["published_version"] == "1"

    def test_validation_errors_name_sheet_row_and_column(self, client: TestClient) -> None:
        broken = FORM.replace(b"| integer           | units", b"| integer           | has_pet")
        report = client.post("/api/v1/forms/validate", files={"file": ("x.md", broken)}).json()
        assert report["ok"] is False
        error = next(e for e in report["errors"] if e["code"] == "definition.duplicate_name")
        assert (error["code"], error["sheet"], error["row"], error["column"]) == (
            "definition.duplicate_name",
            "survey",
            3,
            "name",
        )
        refused = client.post("/api/v1/forms", files={"file": ("x.md", broken)})
        assert refused.status_code == 422
        assert refused.json()["code"] == "definition_invalid"
        assert ["survey", 3, "name"] in [e["loc"] for e in refused.json()["errors"]]

    def test_bad_files_are_clear_422s(self, client: TestClient) -> None:
        for name, data in (
            ("../../etc/passwd.xlsx", FORM),
            ("form.exe", FORM),
            ("form.xlsx", b"not a workbook"),
        ):
            response = client.post("/api/v1/forms/validate", files={"file": (name, data)})
            assert response.status_code == 422, name
            assert response.json()["code"] == "definition.unreadable_file"

    def test_workbooks_from_other_tools_are_read_with_their_attachments(
        self, client: TestClient
    ) -> None:
        corpus = Path(__file__).parents[1] / "surveys" / "questionnaires" / "corpus"
        started = time.monotonic()
        libre = (corpus / "libreoffice_dimension.xlsx").read_bytes()
        report = client.post("/api/v1/forms/validate", files={"file": ("libre.xlsx", libre)})
        assert report.status_code == 200
        assert time.monotonic() - started < 2  # a declared million rows are not padded
        assert client.get("/health/live").status_code == 200
        files = [
            ("file", ("clinics_from_file.xlsx", (corpus / "clinics_from_file.xlsx").read_bytes())),
            ("attachments", ("clinics.csv", (corpus / "clinics.csv").read_bytes())),
        ]
        stored = client.post("/api/v1/forms", files=files)
        assert stored.status_code == 201, stored.json()
        without = client.post("/api/v1/forms/validate", files=files[:1]).json()
        assert "definition.missing_attachment" in [e["code"] for e in without["errors"]]

    def test_unknown_forms_and_versions_are_404(self, client: TestClient) -> None:
        assert client.get("/api/v1/forms/nothing/versions").status_code == 404
        assert client.post("/api/v1/forms/nothing/versions/1/publish").status_code == 404
