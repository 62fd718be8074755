"""The database home of the throttles' failure counters (the default store)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base


class ThrottleCounter(Base):
    """Failures counted against one key within a window, and how long the key is blocked.

    ``key_hash`` and ``group_hash`` are keyed hashes (never an address or an e-mail): the group
    ties the keys that are cleared together, e.g. every per-address counter of one account.
    """

    __tablename__ = "throttle_counter"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_hash: Mapped[str] = mapped_column(String(64), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]
