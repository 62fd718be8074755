"""Run a unit of work in its own transaction, and run it again when PostgreSQL says "try again".

At REPEATABLE READ and SERIALIZABLE, PostgreSQL resolves a conflict between concurrent
transactions by aborting one of them with a serialization failure (SQLSTATE ``40001``); at any
level, two transactions that lock rows in opposite orders end in a deadlock (``40P01``). Both mean
"nothing of yours was written; the same work, started again, may well succeed". The server's
documentation asks applications to retry such transactions from the beginning, so
:func:`run_transaction` does that: a new session, a new transaction, the same callable.

A unit of work may therefore run more than once. It must keep its effects inside the transaction:
no e-mail sent, no file written, no counter bumped in memory, no request to another service. Do
those after :func:`run_transaction` returns, with its result.

The retries are bounded (3, so 4 attempts) and spaced with full-jitter exponential backoff, so that
the transactions that collided do not collide again in step. Each retry is logged at INFO on the
``accessgap.db.retry`` logger with its SQLSTATE; when the last attempt fails too,
:class:`TransactionRetriesExhausted` says so. It is a domain error of kind ``unavailable``, so
the existing handlers answer 503 (the API's problem handler adds ``Retry-After``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from surveys.errors import DomainError, ErrorKind

T = TypeVar("T")

logger = logging.getLogger("accessgap.db.retry")

SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
RETRYABLE_SQLSTATES = frozenset({SERIALIZATION_FAILURE, DEADLOCK_DETECTED})

_jitter = random.SystemRandom()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transaction is run again.

    The defaults keep the worst case short enough for a web request: three waits of at most
    20, 40 and 80 ms (the cap is reached only if ``retries`` is raised).
    """

    retries: int = 3
    base_delay: float = 0.020
    max_delay: float = 0.200


DEFAULT_POLICY = RetryPolicy()


class RetryableConflict(Exception):
    """Mix into an error that means "this transaction cannot decide from its snapshot".

    At REPEATABLE READ and SERIALIZABLE a transaction sees the database as it was at its first
    query. When it loses a race to a row committed after that moment (a unique violation on a
    key it cannot see), no query in the same transaction will ever see the winner; a new
    transaction will. :func:`run_transaction` retries such errors like a serialization failure.
    Mixed into a domain error, the error stays a clean domain error wherever it is not retried.
    A subclass names the SQLSTATE that revealed the race, for the log.
    """

    sqlstate: str = SERIALIZATION_FAILURE


class TransactionRetriesExhausted(DomainError):
    """Every attempt of a unit of work was aborted by the database: the data are too contended.

    Nothing was written. The client should try again in a moment (503 with ``Retry-After``).
    """

    code = "database_busy"
    kind = ErrorKind.UNAVAILABLE
    title = "Service temporarily busy"

    def __init__(self, *, sqlstate: str, attempts: int) -> None:
        super().__init__(
            "Too many people changed the same data at the same moment. Nothing was saved; "
            "please try again in a moment."
        )
        self.sqlstate = sqlstate
        self.attempts = attempts


def retryable_sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE that makes ``error`` worth a new attempt, or ``None`` when it is not.

    Whether a retried transaction may succeed depends on the SQLSTATE alone (psycopg 3 carries
    it on the driver's exception); the message is not read, since it may quote the data.
    """
    if isinstance(error, RetryableConflict):
        return error.sqlstate
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate in RETRYABLE_SQLSTATES:
            return str(sqlstate)
    return None


def backoff_delay(retry: int, policy: RetryPolicy = DEFAULT_POLICY) -> float:
    """Seconds to wait before retry number ``retry`` (1-based): full jitter, exponential cap.

    A uniform draw between zero and the exponential ceiling spreads the colliding transactions
    apart better than a fixed delay with a little noise (the "full jitter" of AWS's study).
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (retry - 1))
    return _jitter.uniform(0.0, ceiling)


def run_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> T:
    """Run ``work(session)`` in a fresh transaction, committed on return, and start it again from
    scratch after a serialization failure or a deadlock.

    A plain, blocking function, so that a request handler runs it off the event loop:
    ``await run_in_threadpool(run_transaction, factory, work)``. Every attempt gets a new
    session; objects from a failed attempt must not be reused. The result is returned after the
    commit, so with the platform's factory (``expire_on_commit=False``) its ORM objects stay
    readable. Any other error, domain errors and integrity errors included, propagates at once.

    Raises :class:`TransactionRetriesExhausted` when the last attempt was aborted too.
    """
    retry = 0
    while True:
        try:
            with factory() as session, session.begin():
                result = work(session)
        except Exception as error:
            sqlstate = retryable_sqlstate(error)
            if sqlstate is None:
                raise
            if retry == policy.retries:
                logger.warning(
                    "attempt %d of %d aborted with SQLSTATE %s; giving up",
                    retry + 1,
                    policy.retries + 1,
                    sqlstate,
                    extra={"sqlstate": sqlstate, "attempt": retry + 1},
                )
                raise TransactionRetriesExhausted(sqlstate=sqlstate, attempts=retry + 1) from error
            retry += 1
            delay = backoff_delay(retry, policy)
            logger.info(
                "attempt %d of %d aborted with SQLSTATE %s (%s); next attempt in %.0f ms",
                retry,
                policy.retries + 1,
                sqlstate,
                type(getattr(error, "orig", None) or error).__name__,
                delay * 1000,
                extra={"sqlstate": sqlstate, "attempt": retry},
            )
            time.sleep(delay)
        else:
            return result
