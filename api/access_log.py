"""Access logs without invitation tokens, for every way the app is served.

An invitation token in ``/i/<token>`` opens a centre's questionnaire, so it must never sit in a
log file (RELIABILITY.md scenario 36, ASVS 16.2.5). uvicorn logs each request's path and query
string on the ``uvicorn.access`` logger; :class:`RedactInvitationTokens` rewrites the path of
each record before any handler formats it.

* gunicorn with uvicorn workers: ``api/gunicorn_conf.py`` calls :func:`install` in each worker.
* ``accessgap serve`` (plain uvicorn): pass :func:`uvicorn_log_config` as ``log_config``. A
  logging configuration, unlike a filter added in the parent process, is applied again in every
  worker process uvicorn starts (``--workers``), so no worker logs a token.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

ACCESS_LOGGER = "uvicorn.access"
FILTER_NAME = "redact_invitation_tokens"


class RedactInvitationTokens(logging.Filter):
    """Access-log lines show ``/i/[redacted]`` instead of an invitation token."""

    TOKEN_PATH = re.compile(r"/i/[^/?#\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = self.TOKEN_PATH.sub("/i/[redacted]", args[2])
            record.args = (*args[:2], path, *args[3:])
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Redact tokens on the uvicorn access logger of this process (idempotent)."""
    target = logger or logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactInvitationTokens) for f in target.filters):
        target.addFilter(RedactInvitationTokens())


def uvicorn_log_config(app_level: str = "INFO") -> dict[str, Any]:
    """uvicorn's own logging configuration, with tokens redacted and the app's logs shown.

    The ``accessgap`` loggers (security events, database retries, errors) go to uvicorn's
    default handler at ``app_level``; without this they would reach the unconfigured root
    logger, which shows warnings only.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})[FILTER_NAME] = {"()": RedactInvitationTokens}
    access = config["loggers"][ACCESS_LOGGER]
    access["filters"] = [*access.get("filters", []), FILTER_NAME]
    config["loggers"]["accessgap"] = {
        "handlers": ["default"],
        "level": app_level.upper(),
        "propagate": False,
    }
    return config
