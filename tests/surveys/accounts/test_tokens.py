"""API tokens: scoped by the role, at most 90 days, revocable, only a hash stored."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from surveys.accounts import tokens
from surveys.accounts.errors import ScopeNotAllowed, TokenNotFound
from surveys.accounts.schemas import TokenCreate
from surveys.accounts.sessions import token_digest
from surveys.db import utcnow
from surveys.policy import Permission, staff_actor
from tests.accounts_fixtures import make_user


def actor_of(user):  # type: ignore[no-untyped-def]
    return staff_actor(user_id=user.id, role=user.role, domains=user.domains)


def test_issue_find_and_revoke(session: Session) -> None:
    user = make_user(session, role="researcher")
    issued = tokens.issue_token(
        session, user, TokenCreate(name="script", scopes=[Permission.EXPORT_PSEUDONYMISED], days=7)
    )
    assert issued.token.startswith(tokens.PREFIX)
    found = tokens.find_token(session, issued.token)
    assert found is not None
    assert found.token_hash == token_digest(issued.token)
    assert found.last_used_at is not None
    tokens.revoke_token(session, actor_of(user), issued.id)
    assert tokens.find_token(session, issued.token) is None


def test_expired_tokens_and_deactivated_users_do_not_work(session: Session) -> None:
    user = make_user(session, role="coordinator")
    data = TokenCreate(name="x", scopes=[Permission.REGISTRY_READ], days=1)
    issued = tokens.issue_token(session, user, data)
    assert tokens.find_token(session, issued.token, now=utcnow() + dt.timedelta(days=2)) is None
    user.active = False
    assert tokens.find_token(session, issued.token) is None


def test_scopes_must_be_within_the_role_and_grantable(session: Session) -> None:
    researcher = make_user(session, role="researcher")
    with pytest.raises(ScopeNotAllowed):
        tokens.issue_token(
            session, researcher, TokenCreate(name="x", scopes=[Permission.REGISTRY_WRITE])
        )
    with pytest.raises(ValidationError, match="cannot be given to an API token"):
        TokenCreate(name="x", scopes=[Permission.USERS_MANAGE])
    with pytest.raises(ValidationError):
        TokenCreate(name="x", scopes=[Permission.REGISTRY_READ], days=91)


def test_a_user_sees_and_revokes_only_their_own_tokens(session: Session) -> None:
    owner = make_user(session, role="coordinator")
    other = make_user(session, role="coordinator")
    admin = make_user(session, role="admin")
    issued = tokens.issue_token(
        session, owner, TokenCreate(name="x", scopes=[Permission.REGISTRY_READ])
    )
    assert [t.id for t in tokens.list_tokens(session, actor_of(other))] == []
    with pytest.raises(TokenNotFound):
        tokens.revoke_token(session, actor_of(other), issued.id)
    assert issued.id in [t.id for t in tokens.list_tokens(session, actor_of(admin))]
    tokens.revoke_token(session, actor_of(admin), issued.id)
