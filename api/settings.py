"""The one settings object, read from ``ACCESSGAP_*`` environment variables (or a ``.env`` file).

It is built in :func:`api.app.create_app` or by the CLI, never at import time, so a test can build
an app against any database without touching the environment.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from surveys.db import IsolationLevel

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105 - refused below


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Configuration of one accessgap deployment."""

    model_config = SettingsConfigDict(
        env_prefix="ACCESSGAP_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///var/accessgap.sqlite3"
    # PostgreSQL only; unset keeps READ COMMITTED. See docs/database.md, "Isolation and retries".
    database_isolation: IsolationLevel | None = None
    secret_key: str = DEVELOPMENT_SECRET
    pseudonym_secret: str = DEVELOPMENT_SECRET
    base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    db_pool_size: int = Field(default=5, ge=1)
    low_coverage_threshold: float = Field(default=0.5, ge=0, le=1)
    # Who runs background jobs: "auto" (a thread of the app on SQLite, `accessgap worker`
    # processes on PostgreSQL), "embedded" (always a thread of the app) or "external".
    jobs_worker: Literal["auto", "embedded", "external"] = "auto"
    log_level: str = "INFO"
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 7)
    # Invitations are e-mailed only when an SMTP relay is configured (smtp_host set).
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "accessgap@localhost"
    smtp_starttls: bool = False
    # Sign-in and invitation throttles count in Redis when set (redis://host:6379/0), else in
    # the database; either way every worker shares them.
    redis_url: str | None = Field(default=None, pattern=r"^rediss?://")
    # Pseudonymised exports a researcher may start per hour (RELIABILITY 3.4); 0 = no limit.
    researcher_exports_per_hour: int = Field(default=20, ge=0)

    @field_validator("database_isolation", mode="before")
    @classmethod
    def _spell_isolation_as_sql(cls, value: object) -> object:
        """Accept ``serializable`` or ``repeatable_read`` in the environment, as well as the SQL
        spelling ``REPEATABLE READ``; an empty variable means unset."""
        if isinstance(value, str):
            spelled = " ".join(value.replace("_", " ").replace("-", " ").split()).upper()
            return spelled or None
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_development(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            for name in ("secret_key", "pseudonym_secret"):
                value = getattr(self, name)
                if value == DEVELOPMENT_SECRET or len(value) < 32:
                    raise ValueError(
                        f"ACCESSGAP_{name.upper()} must be set to a random value of at least 32 "
                        "characters in production (for example: python -c "
                        "'import secrets; print(secrets.token_urlsafe(48))')"
                    )
            if not self.base_url.startswith("https://"):
                raise ValueError(
                    "ACCESSGAP_BASE_URL must be an https:// address in production: session "
                    "cookies are Secure and __Host- prefixed, and browsers drop them over http"
                )
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies are ``Secure`` and ``__Host-`` prefixed when the app is served over HTTPS."""
        return self.base_url.startswith("https://")

    @property
    def totp_required(self) -> bool:
        """Admins and coordinators must use a second factor in production."""
        return self.environment is Environment.PRODUCTION

    @property
    def upload_dir(self) -> Path:
        """Where uploaded files wait for their import; nothing is written outside it."""
        return self.data_dir / "uploads"
