"""A geopoint and a cascading select without JavaScript (the TestClient posts the forms): two
plain inputs for the latitude and the longitude, errors that say what is wrong, the input kept
on a refused submission, and a county of another state refused by the server."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.campaigns.invitations import issue_invitation
from surveys.responses.models import Response
from tests.builders import make_campaign, make_centre, make_published_form
from tests.web.location_form import LOCATION_FORM
from tests.web.test_respondent_pages import csrf_and_version, sign_in


@pytest.fixture
def invited(session_factory: sessionmaker[Session]) -> dict[str, object]:
    with session_factory() as session, session.begin():
        centre = make_centre(session, name="Centre Léon Bérard", country="FR")
        version = make_published_form(session, LOCATION_FORM)
        campaign = make_campaign(session, slug="wave-geo", centres=[centre], versions=[version])
        issued = issue_invitation(session, campaign, centre)
        return {"token": issued.token, "invitation_id": issued.invitation.id}


def post(client: TestClient, html: str, **fields: str) -> object:
    csrf, version = csrf_and_version(html)
    return client.post(
        "/r/forms/location",
        follow_redirects=False,
        data={"csrf_token": csrf, "expected_version": version, **fields},
    )


def input_value(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def test_a_geopoint_is_two_plain_inputs_with_clear_errors_and_kept_input(
    client: TestClient, invited: dict[str, object], session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, str(invited["token"]))
    page = client.get("/r/forms/location")
    assert page.status_code == 200
    for part, label in (("latitude", "Latitude"), ("longitude", "Longitude")):
        assert f'<label for="q-site-{part}">{label}</label>' in page.text
        assert f'name="site:{part}"' in page.text
    assert re.search(r'<div class="geopoint-map" data-geopoint-map hidden', page.text)
    assert 'src="/vendor/leaflet/leaflet.js"' in page.text  # the app's own copy, for the map

    # A draft keeps half a point (a decimal comma read as a point) and says what is missing.
    half = post(client, page.text, action="save", **{"site:latitude": "45,75"})
    assert half.status_code == 200
    assert "needs both a latitude and a longitude" in half.text
    assert input_value(half.text, "site:latitude") == "45.75"
    assert input_value(half.text, "site:longitude") == ""

    wrong = post(
        client,
        half.text,
        action="submit",
        state="north",
        county="n_lake",
        **{"site:latitude": "95", "site:longitude": "-4.85"},
    )
    assert wrong.status_code == 422
    assert "has a latitude of 95: a latitude is between -90 and 90" in wrong.text
    assert 'href="#q-site"' in wrong.text  # the error summary links to the question
    assert 'id="q-site"' in wrong.text
    assert (
        input_value(wrong.text, "site:latitude"),
        input_value(wrong.text, "site:longitude"),
    ) == (
        "95",
        "-4.85",
    )
    not_a_number = post(
        client, wrong.text, action="submit", **{"site:latitude": "45°45'N", "site:longitude": "4"}
    )
    assert "has a latitude that is not a number" in not_a_number.text

    done = post(
        client,
        not_a_number.text,
        action="submit",
        state="north",
        county="n_lake",
        **{"site:latitude": " 45.7578 ", "site:longitude": "4.8320"},
    )
    assert done.status_code == 303
    with session_factory() as session:
        answers = session.scalars(select(Response.answers)).one()
    assert answers["site"] == "45.7578 4.8320"
    # Metadata rows are recorded at submission, never asked.
    assert answers["device"] == "accessgap-web"
    assert answers["user"] == f"invitation:{invited['invitation_id']}"
    ended = dt.datetime.fromisoformat(answers["ended"])
    assert dt.datetime.fromisoformat(answers["started"]) <= ended
    assert answers["day"] == ended.date().isoformat()
    receipt = client.get(done.headers["location"])
    assert "45.7578 4.8320" in receipt.text


def test_the_server_refuses_a_county_of_another_state(
    client: TestClient, invited: dict[str, object]
) -> None:
    sign_in(client, str(invited["token"]))
    page = client.get("/r/forms/location")
    logic = json.loads(
        re.search(r'id="form-logic"[^>]*>(.*?)</script>', page.text, re.S).group(1)  # type: ignore[union-attr]
    )
    assert logic["county"]["choices"]["s_bay"] == {"state": "south", "name": "s_bay"}
    refused = post(
        client,
        page.text,
        action="submit",
        state="north",
        county="s_bay",
        **{"site:latitude": "45.75", "site:longitude": "4.85"},
    )
    assert refused.status_code == 422
    assert "&#39;s_bay&#39; does not go with the answers before it" in refused.text
    assert 'href="#q-county"' in refused.text


def test_the_country_outlines_for_the_picker_are_served_by_the_app(client: TestClient) -> None:
    response = client.get("/geo/countries.geojson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    outlines = response.json()
    assert outlines["type"] == "FeatureCollection"
    by_code = {f["properties"]["iso2"]: f for f in outlines["features"]}
    assert {"FR", "PT", "SI", "NO"} <= set(by_code)
    assert by_code["FR"]["properties"]["name"] == "France"
    assert by_code["FR"]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert len(response.content) < 200_000  # light enough for a form page
