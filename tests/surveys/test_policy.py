"""The authorization policy: roles, token scopes, object rules and query scoping."""

from __future__ import annotations

import pytest
from sqlalchemy import column, select, table

from surveys.policy import (
    ANONYMOUS,
    Permission,
    PermissionDenied,
    Role,
    authorize,
    scope_by_country,
    scope_by_domain,
    staff_actor,
    system_actor,
)

rows = table("response_view", column("domain"), column("country"))


def test_deny_by_default() -> None:
    assert ANONYMOUS.permissions == frozenset()
    assert Permission.REGISTRY_READ not in ANONYMOUS.permissions
    with pytest.raises(PermissionDenied) as caught:
        authorize(ANONYMOUS, Permission.REGISTRY_READ)
    assert caught.value.code == "forbidden"


def test_a_token_narrows_the_role_to_its_scopes() -> None:
    full = staff_actor(user_id=1, role="coordinator")
    narrowed = staff_actor(
        user_id=1, role="coordinator", via="token", token_id=9, scopes=["registry:read"]
    )
    assert Permission.REGISTRY_WRITE in full.permissions
    assert Permission.REGISTRY_WRITE not in narrowed.permissions
    assert narrowed.permissions == {Permission.REGISTRY_READ}
    assert narrowed.label == "user:1/token:9"
    # A scope the role lacks gives nothing.
    researcher = staff_actor(user_id=2, role="researcher", scopes=["registry:write"], token_id=3)
    assert researcher.permissions == frozenset()


def test_domain_leads_see_their_domains_and_countries_only() -> None:
    lead = staff_actor(user_id=3, role=Role.DOMAIN_LEAD, domains=["radiomics"], countries=["FR"])
    query = scope_by_country(
        lead, scope_by_domain(lead, select(rows), rows.c.domain), rows.c.country
    )
    sql = str(query.compile(compile_kwargs={"literal_binds": True}))
    assert "domain IN ('radiomics')" in sql
    assert "country IN ('FR')" in sql
    coordinator = staff_actor(user_id=4, role="coordinator")
    sql = str(scope_by_domain(coordinator, select(rows), rows.c.domain).compile())
    assert "WHERE" not in sql or "true" in sql.lower()
    no_domain = staff_actor(user_id=5, role=Role.DOMAIN_LEAD)
    sql = str(scope_by_domain(no_domain, select(rows), rows.c.domain).compile())
    assert "false" in sql.lower() or "1 != 1" in sql or "0 = 1" in sql


def test_the_system_actor_of_the_command_line_may_do_everything() -> None:
    cli = system_actor()
    assert cli.label == "system:cli"
    assert all(p in cli.permissions for p in Permission)
