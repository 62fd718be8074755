"""JSON routes of the signed-in user: who am I, and my API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.auth import SignedIn, TokenOwner
from api.deps import DbSession
from api.problems import PROBLEM_RESPONSES
from surveys.accounts import tokens
from surveys.accounts.schemas import IssuedToken, TokenCreate, TokenRead
from surveys.schemas import Schema

router = APIRouter(tags=["account"], responses=PROBLEM_RESPONSES)

TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Me(Schema):
    user_id: int
    role: str
    domains: list[str]
    countries: list[str]
    via: str
    permissions: list[str]


@router.get("/me")
def me(actor: SignedIn) -> Me:
    """The caller: their role, scope and the permissions this session or token carries."""
    assert actor.user_id is not None  # noqa: S101 - SignedIn ensures it
    assert actor.role is not None  # noqa: S101 - SignedIn ensures it
    return Me(
        user_id=actor.user_id,
        role=actor.role.value,
        domains=list(actor.domains),
        countries=list(actor.countries),
        via=actor.via,
        permissions=sorted(p.value for p in actor.permissions),
    )


@router.get("/tokens")
def list_tokens(session: DbSession, actor: TokenOwner) -> list[TokenRead]:
    """Your API tokens (never their values: those are shown once, when issued)."""
    return [tokens.to_read(t) for t in tokens.list_tokens(session, actor, user_id=actor.user_id)]


@router.post("/tokens", status_code=201)
def issue_token(
    request: Request, session: DbSession, actor: TokenOwner, data: TokenCreate, response: Response
) -> IssuedToken:
    """Issue yourself a token; ``token`` in the answer is shown this once and never again."""
    issued = tokens.issue(session, actor, data, request_id=request.state.request_id)
    response.headers["Cache-Control"] = "no-store"
    return issued


@router.delete("/tokens/{token_id}")
def revoke_token(
    request: Request, session: DbSession, actor: TokenOwner, token_id: TokenId
) -> TokenRead:
    """Revoke one of your tokens; it stops working at once."""
    token = tokens.revoke(session, actor, token_id, request_id=request.state.request_id)
    return tokens.to_read(token)
