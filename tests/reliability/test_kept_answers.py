"""Scenario 19 on the respondent's page: the database goes away while a centre submits.

The POST answers 503 with ``Retry-After``, and the page keeps every field that was posted (hidden
inputs of a "Try again" form, plus a readable list), so nothing typed is lost. When the database
is back, "Try again" posts the same fields and the submission goes through on the same server
process. PostgreSQL goes away through a loopback relay that is cut; SQLite through a disk that is
full for the server process.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench.loadkit.clients import respondent_headers, submit_fields
from bench.loadkit.faults import TcpProxy, limit_file_size
from bench.loadkit.servers import Served, Zygote, server_env
from bench.loadkit.world import build_world, form_fields, question_kinds
from surveys.db import make_engine
from surveys.responses.models import Response

QUESTIONS = 30  # every kind of question the load form has (text from q022)
TIMEOUT = 60  # seconds a request may take: generous, a loaded machine is slow, not broken
HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


@contextmanager
def outage(server: Served, proxy: TcpProxy | None) -> Iterator[None]:
    """The database unreachable for ``server`` inside the block, back after it."""
    if proxy is not None:
        proxy.cut()
    else:
        # No file of the server may grow: its next write to the WAL fails, "disk is full".
        limit_file_size(server.pid, 0)
    try:
        yield
    finally:
        if proxy is not None:
            proxy.restore()
        else:
            limit_file_size(server.pid, None)


def _posted(fields: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((name, str(v)) for v in values)
    return pairs


def test_a_submit_during_an_outage_keeps_every_answer_and_goes_through_after(
    server_database: str, zygote: Zygote, tmp_path: Path
) -> None:
    world = build_world(server_database, centres=1, questions=QUESTIONS, open_sessions=True)
    invited = world.invited[0]
    answers = form_fields(random.Random(19), question_kinds(QUESTIONS))  # noqa: S311 - test data
    answers["q022"] = "Émile <b>& co</b>"  # text that must come back escaped, not as markup
    posted = _posted(submit_fields(invited, answers))

    proxy: TcpProxy | None = None
    served_url = server_database
    if server_database.startswith("postgresql"):
        target = make_url(server_database)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
        served_url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        )
    try:
        server = zygote.spawn(server_env(served_url, tmp_path), tmp_path / "server.log")
        form_url = f"{server.base}/r/forms/{world.form_id}"
        headers = respondent_headers(invited)
        with outage(server, proxy):
            refused = httpx.post(
                form_url, data=dict(_group(posted)), headers=headers, timeout=TIMEOUT
            )
            ready = httpx.get(f"{server.base}/health/ready", timeout=TIMEOUT)
            autosave = httpx.post(
                form_url,
                data={**dict(_group(posted)), "action": "save"},
                headers={**headers, "Accept": "application/json"},
                timeout=TIMEOUT,
            )

        assert refused.status_code == 503, refused.text[:500]
        assert refused.headers["retry-after"]
        assert refused.headers["content-type"].startswith("text/html")
        assert ready.status_code == 503
        # The page's background save gets a problem document it can act on, not a page.
        assert autosave.status_code == 503
        assert autosave.headers["content-type"].startswith("application/problem+json")
        assert autosave.headers["retry-after"]
        kept = [(html.unescape(n), html.unescape(v)) for n, v in HIDDEN.findall(refused.text)]
        assert sorted(kept) == sorted(posted)  # every field, every value, nothing more
        assert "<b>& co</b>" not in refused.text
        assert "&lt;b&gt;&amp; co&lt;/b&gt;" in refused.text
        assert "Traceback" not in refused.text
        assert "sqlalchemy" not in refused.text.lower()

        # "Try again" posts the kept fields as they are, to the same address, same process.
        again = httpx.post(
            form_url,
            data=dict(_group(kept)),
            headers=headers,
            follow_redirects=False,
            timeout=TIMEOUT,
        )
        assert again.status_code == 303, again.text[:500]
        assert again.headers["location"] == f"/r/receipt/{invited.submission_uuid}"
        assert server.alive()
    finally:
        if proxy is not None:
            proxy.close()

    engine = make_engine(server_database)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                Response.__table__.select().where(
                    Response.submission_uuid == invited.submission_uuid
                )
            ).one()
    finally:
        engine.dispose()
    assert stored.status == "submitted"
    assert stored.answers["q022"] == "Émile <b>& co</b>"
    assert stored.answers["q001"] == int(answers["q001"])


def _group(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}
