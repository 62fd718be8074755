"""gunicorn settings for production: uvicorn workers behind a reverse proxy, on PostgreSQL.

    gunicorn -c api/gunicorn_conf.py          (``make serve-prod``)

Everything can be changed with environment variables, so one file serves every host:

============================== ==================== ===========================================
variable                       default              meaning
============================== ==================== ===========================================
``ACCESSGAP_BIND``             ``127.0.0.1:8000``   where to listen (the proxy connects here)
``ACCESSGAP_WORKERS``          ``2``                worker processes (about one per core)
``ACCESSGAP_FORWARDED_ALLOW_IPS`` ``127.0.0.1``     proxies trusted for ``X-Forwarded-*``
``ACCESSGAP_LOG_LEVEL``        ``info``             gunicorn and uvicorn log level
============================== ==================== ===========================================

The app reads its own settings (``ACCESSGAP_DATABASE_URL``, secrets, ...) in each worker; see
``docs/deploy.md``. Workers hold no state, so any number of them (on any number of hosts) can
serve the same database.
"""

from __future__ import annotations

import os

from api import access_log

wsgi_app = "api.asgi:app"
worker_class = "uvicorn_worker.UvicornWorker"
bind = os.environ.get("ACCESSGAP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ACCESSGAP_WORKERS", "2"))
# Only the reverse proxy may say that the request came over HTTPS (X-Forwarded-Proto) and from
# which client (X-Forwarded-For); anything else sending those headers is ignored.
forwarded_allow_ips = os.environ.get("ACCESSGAP_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker builds its own app and database pool after the fork (no connection is shared).
preload_app = False
# A worker whose event loop has not checked in for this long is replaced. Exports stream from
# worker threads, so a long download does not block the loop.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Replace each worker after many requests (with jitter, not all at once), which bounds slow
# memory growth in long-running processes.
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("ACCESSGAP_LOG_LEVEL", "info").lower()
proc_name = "accessgap"


def post_worker_init(worker: object) -> None:
    """gunicorn hook: once a worker runs, redact tokens in its uvicorn access log."""
    access_log.install()
