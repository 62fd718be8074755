"""The attacker of the disclosure tests: a researcher who reads everything a researcher can read.

It uses a client signed in as a researcher (a browser session holds every permission of the
role; a token only some of them), asks every GET route of the app without a path
parameter (from the route table, so a new route is tried too; the forbidden ones answer 403, and
every body is searched for registry detail), downloads the pseudonymised exports
(wide CSV of every table, the long CSV, the centre GeoJSON) and every release, and then does what
the issue's attacker did: it groups the pseudonyms of each download by everything the download
says about them (country, region, centre type, location) and counts the centres per combination.
A combination held by fewer than k centres singles those centres out.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.accounts_fixtures import grant_every_campaign, route_cases, sign_in

# What ties a row to a centre an outsider knows: the quasi-identifiers of the exports.
KEYS = ("country", "region")
GEO_KEYS = ("country", "region", "centre_type")


@dataclass
class Findings:
    """What the attacker learnt."""

    downloads: int = 0
    centres: int = 0
    routes_read: list[str] = field(default_factory=list)
    small_groups: list[dict[str, Any]] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    pseudonyms: dict[str, set[str]] = field(default_factory=dict)  # per download
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)  # per download

    @property
    def unique_centres(self) -> int:
        return sum(1 for g in self.small_groups if g["centres"] == 1)


def sign_in_researcher(client: TestClient, factory: sessionmaker[Session], **fields: Any) -> None:
    """Sign the client in as a researcher granted every campaign (the attacker's best case)."""
    signed = sign_in(client, factory, role="researcher", **fields)
    with factory() as session, session.begin():
        grant_every_campaign(session, signed.user_id)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _facts_of_tables(files: dict[str, bytes]) -> dict[str, set[tuple[str, str]]]:
    """Per pseudonym, every (field, value) the CSV tables and the GeoJSON say about it."""
    facts: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for name, data in files.items():
        if name.endswith(".csv") and name != "codebook.csv":
            for row in csv_rows(data):
                if row.get("centre"):
                    facts[row["centre"]] |= {(k, row.get(k) or "") for k in KEYS if k in row}
        elif name.endswith(".geojson"):
            for feature in json.loads(data)["features"]:
                properties = feature["properties"]
                known = {(k, str(properties.get(k) or "")) for k in GEO_KEYS}
                geometry = feature["geometry"]
                known.add(("location", json.dumps(geometry and geometry["coordinates"])))
                facts[properties["centre"]] |= known
    return facts


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def attack(
    client: TestClient,
    *,
    min_centres: int,
    secrets: list[str],
    campaign: str,
    formats: tuple[str, ...] = ("csv", "geojson", "csv-long"),
    every_route: bool = True,
) -> Findings:
    """Read everything a researcher may read; report small groups and leaked registry detail.

    ``client`` is signed in as a researcher; ``secrets`` are strings that must never reach a
    researcher (centre names, public ids).
    """
    headers: dict[str, str] = {}
    findings = Findings()
    app: FastAPI = client.app  # type: ignore[assignment]
    cases, _ = route_cases(app)
    bodies: list[tuple[str, bytes]] = []
    for case in cases if every_route else ():
        if case.method != "GET" or case.rule is None or case.params:
            continue
        if case.path.startswith(("/r/", "/i/", "/health")):
            continue  # respondent and probe routes: no researcher data
        answer = client.get(case.path, headers=headers, follow_redirects=False)
        findings.routes_read.append(f"{case.path} {answer.status_code}")
        bodies.append((case.path, answer.content))
    downloads: list[tuple[str, dict[str, bytes]]] = []
    for fmt in formats:  # xlsx, sav, dta and the data package hold the wide CSV's columns
        answer = client.get(
            f"/api/v1/exports/{fmt}", params={"campaign": campaign}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        downloads.append((f"export {fmt}", _unzip(answer.content)))
    for release in client.get("/api/v1/releases", headers=headers).json():
        answer = client.get(
            f"/api/v1/releases/{release['id']}/download", params={"format": "csv"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        downloads.append((f"release {release['name']}", _unzip(answer.content)))
    for label, files in downloads:
        findings.downloads += 1
        bodies += [(f"{label}: {name}", data) for name, data in files.items()]
        facts = _facts_of_tables(files)
        findings.pseudonyms[label] = set(facts)
        findings.manifests[label] = json.loads(files["manifest.json"])
        findings.centres = max(findings.centres, len(facts))
        groups = Counter(frozenset(known) for known in facts.values())
        findings.small_groups += [
            {"download": label, "combination": sorted(combo), "centres": n}
            for combo, n in groups.items()
            if n < min_centres
        ]
    for where, data in bodies:
        text = data.decode("utf-8", errors="replace")
        findings.leaks += [f"{where}: {s!r}" for s in secrets if s and s in text]
    return findings
