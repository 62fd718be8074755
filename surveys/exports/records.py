"""Where exported rows come from: live responses (filtered) or a frozen release.

Both sources yield :class:`ResponseRecord` from a server-side cursor (``yield_per``), one
questionnaire at a time when asked, so no export ever holds more than one batch of responses.
Only submitted and approved responses are read: drafts and withdrawn ones never leave.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from surveys.campaigns.models import Campaign
from surveys.exports.models import DatasetRelease, DatasetReleaseRecord
from surveys.exports.pseudonyms import Pseudonymiser
from surveys.exports.schemas import ExportFilter
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country, Region
from surveys.responses.models import FINAL_STATUSES, Response

BATCH = 500
_Q = TypeVar("_Q", bound=Select[*tuple[Any, ...]])


@dataclass(slots=True)
class ResponseRecord:
    """One response as exports see it: keys already pseudonymised when they must be."""

    response_key: str
    campaign: str
    centre: str
    centre_name: str | None
    country: str
    region: str | None
    questionnaire: str
    questionnaire_id: int
    version: str
    version_id: int
    status: str
    submitted_at: dt.datetime | None
    answers: dict[str, Any]


@dataclass
class SourceSummary:
    """Counted before streaming: responses per questionnaire, versions used, a content hash."""

    responses: int = 0
    per_questionnaire: dict[int, int] = field(default_factory=dict)
    version_ids: list[int] = field(default_factory=list)
    dataset_version: str = ""


class RecordSource(Protocol):
    pseudonymised: bool

    def summary(self, session: Session) -> SourceSummary: ...

    def records(
        self, session: Session, *, questionnaire_id: int | None = None
    ) -> Iterator[ResponseRecord]: ...


def _fingerprint(parts: Iterator[tuple[Any, ...]]) -> tuple[SourceSummary, str]:
    summary = SourceSummary()
    digest = hashlib.sha256()
    versions: set[int] = set()
    for questionnaire_id, version_id, key, status, answers_hash in parts:
        summary.responses += 1
        summary.per_questionnaire[questionnaire_id] = (
            summary.per_questionnaire.get(questionnaire_id, 0) + 1
        )
        versions.add(version_id)
        digest.update(f"{key}|{status}|{answers_hash}\n".encode())
    summary.version_ids = sorted(versions)
    return summary, digest.hexdigest()


class LiveSource:
    """Submitted (and approved) responses matching the filters."""

    def __init__(
        self,
        filters: ExportFilter,
        pseudonymiser: Pseudonymiser,
        *,
        pseudonymised: bool,
        campaigns: tuple[str, ...] | None = None,
    ) -> None:
        self.filters = filters
        self.pseudonymiser = pseudonymiser
        self.pseudonymised = pseudonymised
        # The campaigns the exporting actor may read (grants, scoped tokens); None: all.
        self.campaigns = campaigns

    def filtered(self, query: _Q) -> _Q:
        f = self.filters
        statuses = [s for s in f.status if s in FINAL_STATUSES]
        query = (
            query.join(Centre, Centre.id == Response.centre_id)
            .join(Country, Country.id == Centre.country_id)
            .join(Campaign, Campaign.id == Response.campaign_id)
            .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
            .where(Response.status.in_(statuses))
        )
        if f.campaign:
            query = query.where(Campaign.slug == f.campaign)
        if self.campaigns is not None:
            query = query.where(Campaign.slug.in_(self.campaigns))
        if f.questionnaire:
            query = query.where(Questionnaire.form_id == f.questionnaire)
        if f.domain:
            query = query.where(Questionnaire.domain == f.domain)
        if f.country:
            query = query.where(Country.iso2.in_(sorted(set(f.country))))
        if f.submitted_from:
            start = dt.datetime.combine(f.submitted_from, dt.time(), dt.UTC)
            query = query.where(Response.submitted_at >= start)
        if f.submitted_to:
            end = dt.datetime.combine(f.submitted_to + dt.timedelta(days=1), dt.time(), dt.UTC)
            query = query.where(Response.submitted_at < end)
        return query

    def summary(self, session: Session) -> SourceSummary:
        query = self.filtered(
            select(
                Response.questionnaire_id,
                Response.questionnaire_version_id,
                Response.submission_uuid,
                Response.status,
                Response.answers_hash,
            ).select_from(Response)
        ).order_by(Response.questionnaire_id, Response.id)
        rows = session.execute(query.execution_options(yield_per=5000))
        summary, digest = _fingerprint(iter(rows))
        summary.dataset_version = f"live-{digest[:16]}"
        return summary

    def records(
        self, session: Session, *, questionnaire_id: int | None = None
    ) -> Iterator[ResponseRecord]:
        query = self.filtered(
            select(
                Response.submission_uuid,
                Campaign.slug,
                Centre.public_id,
                Centre.name,
                Country.iso2,
                Region.code,
                Questionnaire.form_id,
                Response.questionnaire_id,
                QuestionnaireVersion.version,
                Response.questionnaire_version_id,
                Response.status,
                Response.submitted_at,
                Response.answers,
            ).select_from(Response)
        )
        query = query.join(
            QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id
        ).outerjoin(Region, Region.id == Centre.region_id)
        if questionnaire_id is not None:
            query = query.where(Response.questionnaire_id == questionnaire_id)
        query = query.order_by(Response.questionnaire_id, Response.id)
        pseudo = self.pseudonymiser if self.pseudonymised else None
        for row in session.execute(query.execution_options(yield_per=BATCH)):
            (uuid, campaign, public_id, name, country, region, form_id, q_id) = row[:8]
            version, version_id, status, submitted_at, answers = row[8:]
            yield ResponseRecord(
                response_key=pseudo.response(uuid) if pseudo else uuid,
                campaign=campaign,
                centre=pseudo.centre(public_id) if pseudo else public_id,
                centre_name=None if pseudo else name,
                country=country,
                region=region,
                questionnaire=form_id,
                questionnaire_id=q_id,
                version=version,
                version_id=version_id,
                status=status,
                submitted_at=submitted_at,
                answers=answers or {},
            )


class ReleaseSource:
    """The frozen rows of a release, in the order they were frozen."""

    pseudonymised = True

    def __init__(self, release: DatasetRelease, campaign_slug: str) -> None:
        self.release = release
        self.campaign_slug = campaign_slug

    def summary(self, session: Session) -> SourceSummary:
        query = (
            select(
                QuestionnaireVersion.questionnaire_id,
                DatasetReleaseRecord.questionnaire_version_id,
                DatasetReleaseRecord.response_key,
                DatasetReleaseRecord.status,
                DatasetReleaseRecord.answers_sha256,
            )
            .join(
                QuestionnaireVersion,
                QuestionnaireVersion.id == DatasetReleaseRecord.questionnaire_version_id,
            )
            .where(DatasetReleaseRecord.release_id == self.release.id)
            .order_by(DatasetReleaseRecord.ordinal)
        )
        rows = session.execute(query.execution_options(yield_per=5000))
        summary, _ = _fingerprint(iter(rows))
        summary.dataset_version = f"{self.campaign_slug}-v{self.release.number}"
        return summary

    def records(
        self, session: Session, *, questionnaire_id: int | None = None
    ) -> Iterator[ResponseRecord]:
        query = (
            select(
                DatasetReleaseRecord.response_key,
                DatasetReleaseRecord.centre,
                DatasetReleaseRecord.country,
                DatasetReleaseRecord.region,
                Questionnaire.form_id,
                Questionnaire.id,
                QuestionnaireVersion.version,
                DatasetReleaseRecord.questionnaire_version_id,
                DatasetReleaseRecord.status,
                DatasetReleaseRecord.submitted_at,
                DatasetReleaseRecord.answers,
            )
            .join(
                QuestionnaireVersion,
                QuestionnaireVersion.id == DatasetReleaseRecord.questionnaire_version_id,
            )
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(DatasetReleaseRecord.release_id == self.release.id)
        )
        if questionnaire_id is not None:
            query = query.where(Questionnaire.id == questionnaire_id)
        query = query.order_by(DatasetReleaseRecord.ordinal)
        for row in session.execute(query.execution_options(yield_per=BATCH)):
            key, centre, country, region, form_id, q_id, version, version_id = row[:8]
            status, submitted_at, answers = row[8:]
            yield ResponseRecord(
                response_key=key,
                campaign=self.campaign_slug,
                centre=centre,
                centre_name=None,
                country=country,
                region=region,
                questionnaire=form_id,
                questionnaire_id=q_id,
                version=version,
                version_id=version_id,
                status=status,
                submitted_at=submitted_at,
                answers=answers,
            )


@dataclass(frozen=True)
class CentreRow:
    """A centre of the export with the number of its responses to one questionnaire."""

    public_id: str
    name: str
    city: str | None
    centre_type: str
    latitude: float | None
    longitude: float | None
    country: str
    region: str | None
    questionnaire: str
    responses: int


def centre_rows(session: Session, source: LiveSource) -> Iterator[CentreRow]:
    """Centres with exported responses, one row per questionnaire, ordered by centre."""
    query = (
        source.filtered(
            select(
                Centre.public_id,
                Centre.name,
                Centre.city,
                Centre.centre_type,
                Centre.latitude,
                Centre.longitude,
                Country.iso2,
                Region.code,
                Questionnaire.form_id,
                func.count(Response.id),
            ).select_from(Response)
        )
        .outerjoin(Region, Region.id == Centre.region_id)
        .group_by(
            Centre.id,
            Centre.public_id,
            Centre.name,
            Centre.city,
            Centre.centre_type,
            Centre.latitude,
            Centre.longitude,
            Country.iso2,
            Region.code,
            Questionnaire.form_id,
        )
        .order_by(Centre.id, Questionnaire.form_id)
    )
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        public_id, name, city, centre_type, latitude, longitude, country, region = row[:8]
        form_id, count = row[8:]
        yield CentreRow(
            public_id, name, city, centre_type, latitude, longitude, country, region, form_id, count
        )


def version_ids(session: Session, source: LiveSource) -> list[int]:
    """The questionnaire versions the filtered responses answer (a cheap distinct query)."""
    query = source.filtered(
        select(Response.questionnaire_version_id).select_from(Response)
    ).distinct()
    return sorted(session.scalars(query))
