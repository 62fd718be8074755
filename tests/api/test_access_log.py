"""Invitation tokens never reach an access log, under plain uvicorn or gunicorn (scenario 36)."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.logging import AccessFormatter

from api import access_log

LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "accessgap")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """The tests configure logging as a server would; put every touched logger back afterwards."""
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (
            list(logger.handlers),
            list(logger.filters),
            logger.level,
            logger.propagate,
            logger.disabled,
        )
    yield
    for name, (handlers, filters, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


def uvicorn_access_record(path: str) -> logging.LogRecord:
    """A record built the way uvicorn's HTTP protocols log a request."""
    return logging.LogRecord(
        access_log.ACCESS_LOGGER,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:51234", "GET", path, "1.1", 303),
        None,
    )


def test_the_filter_redacts_the_token_and_keeps_the_query_string() -> None:
    token = secrets.token_urlsafe(32)
    record = uvicorn_access_record(f"/i/{token}?x=1")
    assert access_log.RedactInvitationTokens().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert line == '127.0.0.1:51234 - "GET /i/[redacted]?x=1 HTTP/1.1" 303 See Other'


@pytest.mark.parametrize("path", ["/r/", "/r/forms/pet_small?saved=1", "/health/ready"])
def test_other_paths_are_left_alone(path: str) -> None:
    record = uvicorn_access_record(path)
    access_log.RedactInvitationTokens().filter(record)
    assert isinstance(record.args, tuple)
    assert record.args[2] == path


def test_a_real_uvicorn_server_logs_no_token(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """``accessgap serve``'s logging configuration, applied by uvicorn itself, on a live request."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 303, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=access_log.uvicorn_log_config())
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # generous: a loaded machine starts threads late
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the uvicorn server in the thread did not start within 120 s"
    token = secrets.token_urlsafe(32)
    try:
        answer = httpx.get(
            f"http://127.0.0.1:{port}/i/{token}?x=1", follow_redirects=False, timeout=60
        )
    finally:
        server.should_exit = True
        thread.join(timeout=60)
    assert answer.status_code == 303
    output = capsys.readouterr()
    logged = output.out + output.err
    assert '"GET /i/[redacted]?x=1 HTTP/1.1" 303' in logged
    assert token not in logged


def test_the_app_loggers_are_shown_at_info(restored_logging: None) -> None:
    config = access_log.uvicorn_log_config()
    assert config["loggers"]["accessgap"]["level"] == "INFO"
    assert access_log.FILTER_NAME in config["loggers"][access_log.ACCESS_LOGGER]["filters"]


def test_gunicorn_workers_install_the_filter_once(restored_logging: None) -> None:
    from api import gunicorn_conf

    gunicorn_conf.post_worker_init(object())
    gunicorn_conf.post_worker_init(object())
    filters = logging.getLogger(access_log.ACCESS_LOGGER).filters
    assert sum(isinstance(f, access_log.RedactInvitationTokens) for f in filters) == 1
