"""What kinds of background job exist: each names the permission it needs and the function
that does the work.

A kind is registered once, by the package that owns the work (:mod:`mapping.job_kinds` for the
figure series, :mod:`surveys.exports.job_kinds` for big exports), and found by name when a job
is submitted (to check the permission and the parameters) and when a worker runs it. The work
function gets a :class:`JobContext` and returns a :class:`JobOutput`; it reports progress
through the context and raises a :class:`~surveys.errors.DomainError` to fail with a message
the user can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from surveys.errors import InvalidInput, NotFound
from surveys.policy import Actor, Permission


@dataclass(frozen=True)
class JobOutput:
    """The file a job produced."""

    filename: str
    media_type: str
    content: bytes


@dataclass
class JobContext:
    """What a job's work function receives: its parameters, who asked, a session factory for
    its own reads and writes, the deployment's secrets it may need, and a progress callback."""

    job_id: int
    params: Mapping[str, Any]
    actor: Actor
    factory: sessionmaker[Session]
    progress: Callable[[int, int, str], None]
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its name, the permission it needs, how its parameters are checked and
    titled, and the work itself."""

    name: str
    permission: Permission
    check: Callable[[Session, Actor, Mapping[str, Any]], str]
    """Checks the parameters (raising a domain error) and returns the job's title."""
    run: Callable[[JobContext], JobOutput]


class UnknownJobKind(InvalidInput):
    code = "job.unknown_kind"


class JobNotFound(NotFound):
    code = "job.not_found"


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Make a kind of job known (once per name; registering it again replaces it)."""
    _KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> JobKind:
    """The registered kind called ``name``; :class:`UnknownJobKind` otherwise."""
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none registered"
        raise UnknownJobKind(f"No kind of job is called {name!r} (known: {known}).") from None
