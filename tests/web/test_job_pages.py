"""The jobs page: a figure series asked from a map page (its form posts here) runs in the background, its page shows
the progress and refreshes itself, then offers the result; other users do not see it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from surveys.jobs import runner
from tests.accounts_fixtures import SignedIn
from tests.mapping.test_service import populate


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_figure_series_from_the_map_page_to_its_download(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, session.begin():
        slug = populate(session).slug
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    asked = lead.post(
        f"/maps/{slug}/figure-series",
        data={"indicator": ["pet_per_m"], "format": "svg", "level": "country"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    job_page = asked.headers["location"]
    waiting = lead.get(job_page)
    assert 'http-equiv="refresh"' in waiting.text
    assert ">queued<" in waiting.text
    assert runner.run_next(session_factory) == "succeeded"
    done = lead.get(job_page)
    assert 'http-equiv="refresh"' not in done.text
    download = lead.get(f"{job_page}/result")
    assert download.headers["content-type"] == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(download.content)).namelist()) == 2
    assert "Figure series: 1 map of" in lead.get("/jobs").text
    other, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    assert other.get(job_page).status_code == 404
    assert other.get(f"{job_page}/result").status_code == 404
