"""JSON routes of researcher grants: which campaigns a researcher may read and export.

Admins and coordinators grant and revoke (``campaigns:manage``); a researcher lists their own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api.auth import CampaignManager, Exporter
from api.deps import DbSession
from api.problems import PROBLEM_RESPONSES
from surveys.campaigns import grants
from surveys.campaigns.schemas import GrantCreate, GrantRead

router = APIRouter(tags=["grants"], responses=PROBLEM_RESPONSES)

GrantId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/grants")
def list_grants(
    session: DbSession,
    actor: Exporter,
    user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[GrantRead]:
    """Grants: your own as a researcher, everyone's (or one user's) with campaigns:manage."""
    return grants.list_grants(session, actor, user_id=user_id)


@router.post("/grants", status_code=201, responses={200: {"model": GrantRead}})
def grant_campaign(
    request: Request,
    session: DbSession,
    actor: CampaignManager,
    data: GrantCreate,
    response: Response,
) -> GrantRead:
    """Grant a researcher a campaign (201); granting it again answers 200 with the grant."""
    grant, created = grants.grant_campaign(
        session, actor, data, request_id=request.state.request_id
    )
    response.status_code = 201 if created else 200
    return grant


@router.delete("/grants/{grant_id}", status_code=204)
def revoke_grant(
    request: Request, session: DbSession, actor: CampaignManager, grant_id: GrantId
) -> Response:
    """Take a grant back: the researcher's exports of that campaign stop at once."""
    grants.revoke_grant(session, actor, grant_id, request_id=request.state.request_id)
    return Response(status_code=204)
