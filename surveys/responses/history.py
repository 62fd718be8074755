"""A response's history: every submitted state kept as a version, the reviewers' comments, and
what changed between two versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.responses.errors import ResponseNotFound
from surveys.responses.models import Response, ResponseComment, ResponseVersion


def list_versions(session: Session, response: Response) -> list[ResponseVersion]:
    return list(
        session.scalars(
            select(ResponseVersion)
            .where(ResponseVersion.response_id == response.id)
            .order_by(ResponseVersion.number)
        )
    )


def get_version(session: Session, response: Response, number: int) -> ResponseVersion:
    if not 0 < number < 2**31:
        raise ResponseNotFound(f"This response has no version {number}.")
    found = session.scalar(
        select(ResponseVersion).where(
            ResponseVersion.response_id == response.id, ResponseVersion.number == number
        )
    )
    if found is None:
        raise ResponseNotFound(f"This response has no version {number}.")
    return found


def list_comments(session: Session, response: Response) -> list[ResponseComment]:
    return list(
        session.scalars(
            select(ResponseComment)
            .where(ResponseComment.response_id == response.id)
            .order_by(ResponseComment.created_at, ResponseComment.id)
        )
    )


@dataclass(frozen=True)
class AnswerChange:
    """One answer that differs between two versions: ``path`` like ``devices[2].vendor``."""

    path: str
    kind: str  # added | removed | changed
    before: Any = None
    after: Any = None


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for index, row in enumerate(value, start=1):
            _flatten(row, f"{prefix}[{index}]", out)
    else:
        out[prefix] = value


def diff_answers(before: dict[str, Any], after: dict[str, Any]) -> list[AnswerChange]:
    """What changed between two sets of answers, one line per answer (repeat rows by number).

    Deterministic: the same two versions always give the same list, in path order.
    """
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _flatten(before, "", old)
    _flatten(after, "", new)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            changes.append(AnswerChange(path, "removed", before=old[path]))
        elif path not in old:
            changes.append(AnswerChange(path, "added", after=new[path]))
        elif old[path] != new[path]:
            changes.append(AnswerChange(path, "changed", before=old[path], after=new[path]))
    return changes
