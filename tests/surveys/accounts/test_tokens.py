"""API tokens: scoped by the role, at most 90 days, revocable, only a hash stored."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from surveys.accounts import tokens
from surveys.accounts.errors import ScopeNotAllowed, TokenNotFound, UserNotFound
from surveys.accounts.schemas import TokenCreate
from surveys.accounts.sessions import token_digest
from surveys.db import utcnow
from surveys.policy import Permission, PermissionDenied, staff_actor
from tests.accounts_fixtures import make_user
from tests.audit_events import events, last_event


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
    tokens.revoke(session, actor_of(user), issued.id, request_id=None)
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
        tokens.revoke(session, actor_of(other), issued.id, request_id=None)
    assert issued.id in [t.id for t in tokens.list_tokens(session, actor_of(admin))]
    tokens.revoke(session, actor_of(admin), issued.id, request_id=None)


class TestAuditedUseCases:
    def test_issue_and_revoke_record_the_token_never_its_value(self, session: Session) -> None:
        user = make_user(session, role="coordinator")
        data = TokenCreate(name="nightly", scopes=[Permission.REGISTRY_READ], days=7)
        issued = tokens.issue(session, actor_of(user), data, request_id="r-1")
        assert issued.user_id == user.id
        tokens.revoke(session, actor_of(user), issued.id, request_id="r-2")
        issue_event = last_event(session, "token.issue")
        revoke_event = last_event(session, "token.revoke")
        assert (issue_event.actor, issue_event.object_type, issue_event.object_id) == (
            f"user:{user.id}",
            "api_token",
            str(issued.id),
        )
        assert issue_event.details == {
            "token_name": "nightly",
            "scopes": ["registry:read"],
            "for_user": user.id,
        }
        assert (revoke_event.object_id, revoke_event.details) == (
            str(issued.id),
            {"for_user": user.id},
        )
        assert issued.token not in str([issue_event.details, revoke_event.details])

    def test_a_token_for_someone_else_needs_tokens_manage(self, session: Session) -> None:
        coordinator = make_user(session, role="coordinator")
        other = make_user(session, role="researcher")
        admin = make_user(session, role="admin")
        data = TokenCreate(name="x", scopes=[Permission.EXPORT_PSEUDONYMISED])
        with pytest.raises(PermissionDenied):
            tokens.issue(session, actor_of(coordinator), data, owner_id=other.id, request_id=None)
        issued = tokens.issue(session, actor_of(admin), data, owner_id=other.id, request_id=None)
        assert issued.user_id == other.id
        assert last_event(session, "token.issue").details["for_user"] == other.id
        with pytest.raises(UserNotFound):
            tokens.issue(session, actor_of(admin), data, owner_id=2**31 - 1, request_id=None)

    def test_an_actor_without_token_permissions_is_refused(self, session: Session) -> None:
        user = make_user(session, role="coordinator")
        issued = tokens.issue_token(
            session, user, TokenCreate(name="x", scopes=[Permission.REGISTRY_READ])
        )
        through_token = staff_actor(
            user_id=user.id, role="coordinator", via="token", scopes=["registry:read"]
        )
        with pytest.raises(PermissionDenied):
            tokens.revoke(session, through_token, issued.id, request_id=None)
        with pytest.raises(PermissionDenied):
            tokens.issue(
                session,
                through_token,
                TokenCreate(name="y", scopes=[Permission.REGISTRY_READ]),
                request_id=None,
            )
        assert events(session, "token.revoke") == []
