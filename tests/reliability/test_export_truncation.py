"""Scenario 21 (RELIABILITY.md section C): a truncated export is detectable.

The server is SIGKILLed while it streams a long CSV (one row per answer, some ten thousand
rows). The body is chunked, so the client sees a transfer without its terminating chunk and
reports an error (``curl`` exit 18; httpx ``RemoteProtocolError``), never a short file that
looks complete. A complete export checks against its manifest (row count and SHA-256) and a
truncated copy, even one cut at a row boundary, does not; a cut zip does not even open.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import socket
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.loadkit.servers import Zygote, server_env
from bench.loadkit.world import add_submitted, build_world
from tests.reliability.conftest import soak_sized

LONG_ROWS_PER_RESPONSE = 150  # the load form's questions: one long row per answer, about
# A client that reads slowly with a small receive window: the server cannot run ahead into
# socket buffers, so the kill lands while most of the body is still to be sent.
SMALL_WINDOW = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)]


def csv_rows(body: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))) - 1


def plain_problems(body: bytes, manifest: dict[str, Any]) -> list[str]:
    """Why a bare CSV is not the file its manifest describes (empty when it is)."""
    problems = []
    archive = manifest["archive"]
    if len(body) != archive["bytes"]:
        problems.append(f"{len(body)} bytes, the manifest says {archive['bytes']}")
    if hashlib.sha256(body).hexdigest() != archive["sha256"]:
        problems.append("SHA-256 differs from the manifest's")
    if csv_rows(body) != manifest["tables"][0]["rows"]:
        problems.append(f"{csv_rows(body)} rows, the manifest says {manifest['tables'][0]['rows']}")
    return problems


def zip_problems(body: bytes) -> list[str]:
    """Why a zip export is not what its own ``manifest.json`` describes (empty when it is)."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(body))
        manifest = json.loads(bundle.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError) as exc:
        return [f"not a whole zip: {exc}"]
    problems = []
    for entry in manifest["files"]:
        content = bundle.read(entry["path"])
        if hashlib.sha256(content).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['path']}: SHA-256 differs")
        if entry["rows"] is not None and csv_rows(content) != entry["rows"]:
            problems.append(f"{entry['path']}: row count differs")
    if not manifest["complete"]:
        problems.append("the manifest says the export is incomplete")
    return problems


@pytest.fixture
def exporting(server_database: str, shared_zygote: Zygote, tmp_path: Path) -> dict[str, Any]:
    """A server with enough submitted responses for a long CSV of about ten thousand rows."""
    responses = soak_sized(70, 700)
    world = build_world(server_database, centres=responses)
    add_submitted(server_database, world.slug, responses)
    env = server_env(server_database, tmp_path / "data")
    return {
        "world": world,
        "spawn": lambda name: shared_zygote.spawn(env, tmp_path / f"{name}.log", access_log=False),
        "headers": {"Authorization": f"Bearer {world.tokens['coordinator']}"},
        "responses": responses,
    }


def test_a_server_killed_mid_export_leaves_an_incomplete_transfer(
    exporting: dict[str, Any], report_figures: Callable[[str], None]
) -> None:
    world, headers = exporting["world"], exporting["headers"]
    params = {"campaign": world.slug, "plain": "true"}
    path = "/api/v1/exports/csv-long/identified"
    server = exporting["spawn"]("complete")
    complete = httpx.get(server.base + path, params=params, headers=headers, timeout=60)
    assert complete.status_code == 200
    assert "content-length" not in complete.headers
    assert complete.headers["transfer-encoding"] == "chunked"
    assert csv_rows(complete.content) >= exporting["responses"] * LONG_ROWS_PER_RESPONSE

    received = bytearray()
    transport = httpx.HTTPTransport(socket_options=SMALL_WINDOW)
    with (
        httpx.Client(transport=transport, timeout=60) as client,
        client.stream("GET", server.base + path, params=params, headers=headers) as streaming,
    ):
        killed_export = streaming.headers["x-export-id"]
        chunks = streaming.iter_raw()
        received.extend(next(chunks))
        server.kill()
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            received.extend(b"".join(chunks))

    assert 0 < len(received) < len(complete.content)
    assert complete.content.startswith(bytes(received))

    after = exporting["spawn"]("after")
    manifest = httpx.get(
        f"{after.base}/api/v1/exports/{complete.headers['x-export-id']}/manifest",
        headers=headers,
        timeout=60,
    )
    assert manifest.status_code == 200
    assert plain_problems(complete.content, manifest.json()) == []
    # The killed export never finished, so no manifest vouches for what it sent.
    orphan = httpx.get(
        f"{after.base}/api/v1/exports/{killed_export}/manifest", headers=headers, timeout=60
    )
    assert orphan.status_code == 404
    report_figures(
        f"scenario 21: killed after {len(received):,} of {len(complete.content):,} bytes "
        f"({csv_rows(complete.content):,} rows): incomplete chunked read"
    )


def test_a_manifest_tells_a_whole_export_from_a_truncated_one(
    exporting: dict[str, Any],
) -> None:
    world, headers = exporting["world"], exporting["headers"]
    server = exporting["spawn"]("manifest")
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
        plain = client.get(
            "/api/v1/exports/csv-long/identified", params={"campaign": world.slug, "plain": "true"}
        )
        manifest = client.get(f"/api/v1/exports/{plain.headers['x-export-id']}/manifest").json()
        zipped = client.get("/api/v1/exports/csv/identified", params={"campaign": world.slug})
    assert manifest["complete"] is True
    assert plain_problems(plain.content, manifest) == []
    assert zip_problems(zipped.content) == []

    body = plain.content
    at_row_boundary = body[: body.rindex(b"\r\n", 0, len(body) // 2) + 2]
    assert csv_rows(at_row_boundary) > 0  # a CSV reader takes it as a whole, shorter file
    assert plain_problems(at_row_boundary, manifest) != []
    assert zip_problems(zipped.content[: len(zipped.content) * 3 // 4]) != []
