"""gzip for pages, JSON and CSV when asked; streamed exports byte for byte."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from api.compression import MINIMUM_BYTES, CompressionMiddleware

ROWS = "".join(f"{i},area {i},{i * 0.5}\r\n" for i in range(2_000))


def csv_page(_: object) -> Response:
    return PlainTextResponse(ROWS, media_type="text/csv")


def tiny(_: object) -> Response:
    return PlainTextResponse("ok")


def pdf(_: object) -> Response:
    return Response(b"%PDF" + b"0" * 5_000, media_type="application/pdf")


def export(_: object) -> Response:
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(ROWS), 4_096):
            yield ROWS[start : start + 4_096].encode()

    return StreamingResponse(chunks(), media_type="text/csv")


def client() -> TestClient:
    app = Starlette(
        routes=[
            Route("/maps/x/data.csv", csv_page),
            Route("/tiny", tiny),
            Route("/figure.pdf", pdf),
            Route("/api/v1/exports/csv-long", export),
            Route("/api/v1/releases/1/download", export),
        ]
    )
    app.add_middleware(CompressionMiddleware)
    return TestClient(app)


def raw(test_client: TestClient, url: str, encoding: str) -> tuple[dict[str, str], bytes]:
    with test_client.stream("GET", url, headers={"Accept-Encoding": encoding}) as response:
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_table_is_gzipped_when_the_client_accepts_it() -> None:
    headers, body = raw(client(), "/maps/x/data.csv", "gzip")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).decode() == ROWS
    assert len(body) < len(ROWS) / 3
    headers, body = raw(client(), "/maps/x/data.csv", "identity")
    assert "content-encoding" not in headers
    assert body.decode() == ROWS


def test_small_responses_and_compressed_formats_go_out_as_they_are() -> None:
    assert len("ok") < MINIMUM_BYTES
    assert "content-encoding" not in raw(client(), "/tiny", "gzip")[0]
    assert "content-encoding" not in raw(client(), "/figure.pdf", "gzip")[0]


def test_streamed_exports_are_sent_byte_for_byte_and_still_streamed() -> None:
    for url in ("/api/v1/exports/csv-long", "/api/v1/releases/1/download"):
        headers, body = raw(client(), url, "gzip")
        assert "content-encoding" not in headers
        assert "content-length" not in headers  # chunked: a cut stream shows
        assert body.decode() == ROWS
