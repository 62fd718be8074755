"""The Redis server of the throttle tests (``ACCESSGAP_TEST_REDIS_URL``, default the local one).

Each test gets its own key prefix and removes its keys afterwards, so runs in parallel do not
see each other. Without a server the Redis cases skip locally and fail in CI, like PostgreSQL's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from surveys.throttles.store import RedisStore
from tests.databases import skip_or_fail

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_url() -> str:
    return os.environ.get("ACCESSGAP_TEST_REDIS_URL", DEFAULT_REDIS_URL)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix on the test server; its keys are deleted after the test."""
    client = redis.Redis.from_url(redis_url(), socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        skip_or_fail(f"Redis is not reachable at {redis_url()} ({exc})")
    prefix = f"accessgap-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def redis_store(prefix: str) -> RedisStore:
    return RedisStore(
        redis.Redis.from_url(redis_url(), socket_timeout=2, socket_connect_timeout=2),
        prefix=prefix,
    )
