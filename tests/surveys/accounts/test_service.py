"""Accounts: creation, roles, deactivation, sign-in with its lockout, and the second factor."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.accounts import service, sessions, totp
from surveys.accounts.errors import EmailTaken, LastAdmin, WeakPassword
from surveys.accounts.models import LoginThrottle, StaffSession
from surveys.accounts.schemas import UserCreate, UserRoleChange
from surveys.accounts.service import LoginOutcome
from surveys.db import utcnow
from tests.accounts_fixtures import STAFF_PASSWORD, make_user

SECRET = "test-secret-" + "x" * 32


def new_user_data(**fields: object) -> UserCreate:
    data = {
        "email": "Ana.Silva@Example.PT ",
        "display_name": "Ana Silva",
        "password": "violet harbour lantern 93",
        "role": "coordinator",
        **fields,
    }
    return UserCreate.model_validate(data)


def key(email: str) -> str:
    return service.throttle_key(email, SECRET)


class TestCreateUser:
    def test_stores_a_normalised_email_and_an_argon2_hash(self, session: Session) -> None:
        user = service.create_user(session, new_user_data(), with_totp=True)
        assert user.email == "ana.silva@example.pt"
        assert user.password_hash.startswith("$argon2id$")
        assert user.totp_secret is not None
        assert len(user.totp_secret) == 32

    def test_refuses_a_weak_password_naming_the_field(self, session: Session) -> None:
        with pytest.raises(WeakPassword) as caught:
            service.create_user(session, new_user_data(password="anasilva2026"))
        assert caught.value.errors[0].loc == ("password",)

    def test_refuses_a_second_account_with_the_same_email(self, session: Session) -> None:
        service.create_user(session, new_user_data())
        with pytest.raises(EmailTaken):
            service.create_user(session, new_user_data(email="ana.silva@example.pt"))

    @pytest.mark.parametrize(
        "fields",
        [
            {"role": "domain_lead"},  # a lead needs a domain
            {"role": "coordinator", "domains": ["radiomics"]},  # only leads are scoped
            {"role": "domain_lead", "domains": ["astrology"]},
            {"role": "domain_lead", "domains": ["radiomics"], "countries": ["France"]},
            {"role": "superuser"},
            {"email": "not an address"},
        ],
    )
    def test_role_and_scope_must_fit(self, fields: dict[str, object]) -> None:
        with pytest.raises(ValueError, match=r"."):
            new_user_data(**fields)


class TestRolesAndActivity:
    def test_role_change_ends_sessions_and_returns_the_previous_role(
        self, session: Session
    ) -> None:
        user = make_user(session, role="researcher")
        sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        changed, previous = service.change_role(
            session,
            user.id,
            UserRoleChange(role="domain_lead", domains=["surgery"], countries=["fr"]),
        )
        assert previous == "researcher"
        assert (changed.role, changed.domains, changed.countries) == (
            "domain_lead",
            ["surgery"],
            ["FR"],
        )
        assert session.scalar(select(func.count(StaffSession.id))) == 0

    def test_the_last_admin_cannot_be_demoted_or_deactivated(self, session: Session) -> None:
        for other in session.scalars(select(service.User).where(service.User.role == "admin")):
            other.role = "coordinator"  # the admin made below is then the last one
        session.flush()
        admin = make_user(session, role="admin")
        with pytest.raises(LastAdmin):
            service.change_role(session, admin.id, UserRoleChange(role="researcher"))
        with pytest.raises(LastAdmin):
            service.set_active(session, admin.id, active=False)
        make_user(session, role="admin")
        service.set_active(session, admin.id, active=False)

    def test_deactivation_ends_sessions(self, session: Session) -> None:
        user = make_user(session, role="coordinator")
        raw, _ = sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        service.set_active(session, user.id, active=False)
        assert sessions.find_session(session, raw, idle=dt.timedelta(minutes=30)) is None


class TestAuthenticate:
    def test_success_resets_the_counter(self, session: Session) -> None:
        user = make_user(session, role="coordinator")
        service.authenticate(session, email=user.email, password="wrong", key=key(user.email))
        result = service.authenticate(
            session, email=user.email.upper(), password=STAFF_PASSWORD, key=key(user.email)
        )
        assert result.outcome is LoginOutcome.SUCCESS
        assert result.user is not None
        assert result.user.failed_logins == 0
        assert session.get(LoginThrottle, key(user.email)) is None

    @pytest.mark.parametrize("exists", [True, False])
    def test_ten_failures_in_fifteen_minutes_lock_for_fifteen_minutes(
        self, session: Session, exists: bool
    ) -> None:
        email = make_user(session).email if exists else "ghost@example.org"
        start = utcnow()
        outcomes = [
            service.authenticate(
                session,
                email=email,
                password="wrong",
                key=key(email),
                now=start + dt.timedelta(seconds=i),
            ).outcome
            for i in range(10)
        ]
        assert outcomes == [LoginOutcome.INVALID] * 9 + [LoginOutcome.LOCKED_NOW]
        during = service.authenticate(
            session,
            email=email,
            password=STAFF_PASSWORD,
            key=key(email),
            now=start + dt.timedelta(minutes=14),
        )
        assert during.outcome is LoginOutcome.LOCKED
        after = service.authenticate(
            session,
            email=email,
            password=STAFF_PASSWORD,
            key=key(email),
            now=start + dt.timedelta(minutes=16),
        )
        assert after.outcome is (LoginOutcome.SUCCESS if exists else LoginOutcome.INVALID)

    def test_failures_spread_over_more_than_the_window_do_not_lock(self, session: Session) -> None:
        email = make_user(session).email
        start = utcnow()
        for i in range(12):
            result = service.authenticate(
                session,
                email=email,
                password="wrong",
                key=key(email),
                now=start + dt.timedelta(minutes=2 * i),
            )
            assert result.outcome is LoginOutcome.INVALID

    def test_existing_and_missing_accounts_cost_the_same_time(self, session: Session) -> None:
        """Scenario 40: the median difference is under 5 ms (one argon2 verification each)."""
        email = make_user(session).email

        def attempt(address: str, number: int) -> float:
            started = time.perf_counter()
            service.authenticate(session, email=address, password="wrong", key=key(str(number)))
            return time.perf_counter() - started

        # Paired, interleaved samples: the median of the differences shrugs off load drift; of
        # three rounds the quietest counts (other load only ever adds noise, never removes it).
        medians = []
        for round_number in range(3):
            base = 100 * round_number
            differences = [
                attempt(email, base + 2 * i) - attempt(f"ghost{i}@example.org", base + 2 * i + 1)
                for i in range(15)
            ]
            medians.append(abs(statistics.median(differences)))
        difference = min(medians)
        assert difference < 0.005, f"{difference * 1000:.1f} ms"


class TestSecondFactor:
    def test_a_code_is_accepted_once(self, session: Session) -> None:
        secret = totp.new_secret()
        user = make_user(session, totp_secret=secret)
        now = utcnow()
        code = totp.current_code(secret, at=now)
        assert service.verify_totp(user, code, now=now)
        assert not service.verify_totp(user, code, now=now)
        later = now + dt.timedelta(seconds=30)
        assert service.verify_totp(user, totp.current_code(secret, at=later), now=later)

    def test_codes_from_far_away_in_time_or_malformed_are_refused(self, session: Session) -> None:
        secret = totp.new_secret()
        user = make_user(session, totp_secret=secret)
        now = utcnow()
        old = totp.current_code(secret, at=now - dt.timedelta(minutes=5))
        for code in (old, "", "12345", "abcdef", "1234567", "\uff11\uff12\uff13\uff14\uff15\uff16"):
            assert not service.verify_totp(user, code, now=now) or code == totp.current_code(
                secret, at=now
            )

    def test_provisioning_uri_names_the_issuer(self) -> None:
        uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="user 7")
        assert uri.startswith("otpauth://totp/accessgap:user%207?secret=JBSWY3DPEHPK3PXP")
        assert "issuer=accessgap" in uri
