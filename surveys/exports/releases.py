"""Dataset releases: freeze a campaign's approved data, cite it, list it, serve it unchanged.

Freezing copies every approved response of the campaign into ``dataset_release_record`` as it
stands: pseudonymous keys (under the pseudonym secret of the day), answers without identifier
questions. The release's ``content_sha256`` is the SHA-256 of its canonical rows (one JSON line
per record, keys sorted); it is set last, which seals the release: from then on the database
refuses any change to the release or its records (triggers, revision 0003). Every download checks
the rows against the checksum first and refuses a damaged release.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from surveys.audit import service as audit
from surveys.audit.channel import channel
from surveys.campaigns.grants import check_readable, readable_campaigns
from surveys.campaigns.lifecycle import get_campaign
from surveys.campaigns.models import Campaign
from surveys.db import utcnow
from surveys.exports.errors import (
    NothingToRelease,
    ReleaseDamaged,
    ReleaseInProgress,
    ReleaseNotFound,
)
from surveys.exports.models import DatasetRelease, DatasetReleaseRecord
from surveys.exports.pseudonyms import Pseudonymiser
from surveys.exports.records import LiveSource, ResponseRecord
from surveys.exports.schemas import ExportFilter, ReleaseCreate, ReleaseRead
from surveys.exports.variables import identifier_names
from surveys.policy import Actor, Permission, authorize
from surveys.questionnaires.definitions.compiled import compile_definition
from surveys.questionnaires.definitions.model import GENERATED_OTHER_SUFFIX, MATRIX_SEPARATOR
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion

BATCH = 500


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _timestamp(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def canonical_line(
    record: ResponseRecord | DatasetReleaseRecord, form_id: str, version: str
) -> str:
    """The canonical text of one frozen record (what the release checksum covers)."""
    return canonical_json(
        {
            "answers": record.answers,
            "centre": record.centre,
            "country": record.country,
            "questionnaire": form_id,
            "region": record.region,
            "response_key": record.response_key,
            "status": record.status,
            "submitted_at": _timestamp(record.submitted_at),
            "version": version,
        }
    )


def _is_identifier_key(key: str, names: set[str]) -> bool:
    if key in names:
        return True
    row, separator, _ = key.partition(MATRIX_SEPARATOR)
    if separator and row in names:
        return True
    return (
        key.endswith(GENERATED_OTHER_SUFFIX) and key.removesuffix(GENERATED_OTHER_SUFFIX) in names
    )


def strip_identifiers(answers: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The answers without identifier questions, at every level of repeats."""
    kept: dict[str, Any] = {}
    for key, value in answers.items():
        if _is_identifier_key(key, names):
            continue
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            value = [strip_identifiers(row, names) for row in value]
        kept[key] = value
    return kept


def release_name(campaign_slug: str, number: int) -> str:
    return f"{campaign_slug}-v{number}"


def citation(
    *, title: str, number: int, created_at: dt.datetime, name: str, records: int, digest: str
) -> str:
    """How to cite a release: title, release number, date, size, identifier and checksum."""
    return (
        f"{title}, release {number} ({created_at:%Y-%m-%d}). {records} approved responses, "
        f"pseudonymised. accessgap dataset {name}. SHA-256 {digest}."
    )


def freeze_release(
    session: Session,
    actor: Actor,
    data: ReleaseCreate,
    *,
    pseudonym_secret: str,
    request_id: str | None,
) -> DatasetRelease:
    """Freeze the campaign's approved responses as its next release (campaigns:manage), audited
    as ``release.create`` with the record count and the checksum."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    release = create_release(
        session, data, created_by=actor.label, pseudonym_secret=pseudonym_secret
    )
    audit.record(
        session,
        actor=actor,
        action="release.create",
        object_type="dataset_release",
        object_id=release.id,
        details={
            "campaign": release.campaign.slug,
            "number": release.number,
            "records": release.record_count,
            "sha256": release.content_sha256,
            **channel(actor),
        },
        request_id=request_id,
    )
    return release


def create_release(
    session: Session,
    data: ReleaseCreate,
    *,
    created_by: str,
    pseudonym_secret: str,
    now: dt.datetime | None = None,
) -> DatasetRelease:
    """Freeze the campaign's approved responses as its next release (flushes, never commits).

    The step of :func:`freeze_release`, unaudited.
    """
    now = now or utcnow()
    campaign = get_campaign(session, data.campaign)
    number = 1 + (
        session.scalar(
            select(func.max(DatasetRelease.number)).where(DatasetRelease.campaign_id == campaign.id)
        )
        or 0
    )
    title = (data.title or "").strip() or f"{campaign.name}: approved survey data"
    release = DatasetRelease(
        campaign_id=campaign.id,
        campaign=campaign,
        number=number,
        title=title,
        note=data.note,
        citation="",
        record_count=0,
        content_sha256="",
        created_by=created_by[:100],
        created_at=now,
    )
    savepoint = session.begin_nested()
    try:
        session.add(release)
        session.flush()
    except IntegrityError as exc:
        savepoint.rollback()
        raise ReleaseInProgress(
            "Another release of this campaign was being made at the same time; try again."
        ) from exc
    savepoint.commit()
    source = LiveSource(
        ExportFilter(campaign=campaign.slug, status=["approved"]),
        Pseudonymiser(pseudonym_secret),
        pseudonymised=True,
    )
    identifiers: dict[int, set[str]] = {}
    digest = hashlib.sha256()
    count = 0
    pending: list[DatasetReleaseRecord] = []
    for record in source.records(session):
        names = identifiers.get(record.version_id)
        if names is None:
            version = session.get_one(QuestionnaireVersion, record.version_id)
            names = identifier_names(compile_definition(version.definition))
            identifiers[record.version_id] = names
        record.answers = strip_identifiers(record.answers, names)
        count += 1
        digest.update(
            (canonical_line(record, record.questionnaire, record.version) + "\n").encode()
        )
        pending.append(
            DatasetReleaseRecord(
                release_id=release.id,
                ordinal=count,
                questionnaire_version_id=record.version_id,
                response_key=record.response_key,
                centre=record.centre,
                country=record.country,
                region=record.region,
                status=record.status,
                submitted_at=record.submitted_at,
                answers=record.answers,
                answers_sha256=hashlib.sha256(canonical_json(record.answers).encode()).hexdigest(),
            )
        )
        if len(pending) >= BATCH:
            session.add_all(pending)
            session.flush()
            pending.clear()
    if count == 0:
        raise NothingToRelease(
            f"Campaign {campaign.slug!r} has no approved response yet; approve responses first."
        )
    session.add_all(pending)
    session.flush()
    release.record_count = count
    release.content_sha256 = digest.hexdigest()
    release.citation = citation(
        title=title,
        number=number,
        created_at=now,
        name=release_name(campaign.slug, number),
        records=count,
        digest=release.content_sha256,
    )
    session.flush()
    return release


def get_release(session: Session, release_id: int) -> DatasetRelease:
    release = session.scalar(
        select(DatasetRelease)
        .where(DatasetRelease.id == release_id, DatasetRelease.content_sha256 != "")
        .options(joinedload(DatasetRelease.campaign))
    )
    if release is None:
        raise ReleaseNotFound(f"No release {release_id}.")
    return release


def list_releases(
    session: Session, *, campaign: str | None = None, actor: Actor | None = None
) -> list[DatasetRelease]:
    """Sealed releases, newest first; of one campaign when its slug is given; of the
    campaigns the actor may read when an actor is given (researcher grants, scoped tokens)."""
    query = (
        select(DatasetRelease)
        .where(DatasetRelease.content_sha256 != "")
        .options(joinedload(DatasetRelease.campaign))
        .order_by(DatasetRelease.created_at.desc(), DatasetRelease.id.desc())
    )
    if campaign is not None:
        if actor is not None:
            check_readable(session, actor, campaign)
        query = query.where(DatasetRelease.campaign_id == get_campaign(session, campaign).id)
    allowed = readable_campaigns(session, actor) if actor is not None else None
    if allowed is not None:
        query = query.join(Campaign, Campaign.id == DatasetRelease.campaign_id).where(
            Campaign.slug.in_(sorted(allowed))
        )
    return list(session.scalars(query))


def read_release(session: Session, actor: Actor, release_id: int) -> DatasetRelease:
    """A release the actor may read: one of a campaign outside their grants is "not found"."""
    release = get_release(session, release_id)
    allowed = readable_campaigns(session, actor)
    if allowed is not None and release.campaign.slug not in allowed:
        raise ReleaseNotFound(f"No release {release_id}.")
    return release


def to_read(release: DatasetRelease) -> ReleaseRead:
    return ReleaseRead(
        id=release.id,
        name=release_name(release.campaign.slug, release.number),
        campaign=release.campaign.slug,
        number=release.number,
        title=release.title,
        note=release.note,
        citation=release.citation,
        record_count=release.record_count,
        content_sha256=release.content_sha256,
        created_at=release.created_at,
    )


def _frozen_lines(session: Session, release: DatasetRelease) -> Iterator[str]:
    query = (
        select(DatasetReleaseRecord, Questionnaire.form_id, QuestionnaireVersion.version)
        .join(
            QuestionnaireVersion,
            QuestionnaireVersion.id == DatasetReleaseRecord.questionnaire_version_id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(DatasetReleaseRecord.release_id == release.id)
        .order_by(DatasetReleaseRecord.ordinal)
        .execution_options(yield_per=BATCH)
    )
    for record, form_id, version in session.execute(query):
        yield canonical_line(record, form_id, version)
        session.expunge(record)


def verify_release(session: Session, release: DatasetRelease) -> None:
    """Raise :class:`ReleaseDamaged` unless the stored rows still hash to the checksum."""
    digest = hashlib.sha256()
    count = 0
    for line in _frozen_lines(session, release):
        digest.update((line + "\n").encode())
        count += 1
    if count != release.record_count or digest.hexdigest() != release.content_sha256:
        raise ReleaseDamaged(
            f"Release {release.id} no longer matches its checksum; it is not served. "
            "Tell the administrator."
        )
