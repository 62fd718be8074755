"""Guessing invitation links is throttled per client address (RELIABILITY scenario 35).

Only failed attempts count, so colleagues behind the same address who hold valid links keep
working. More than ``limit`` failures within ``window`` blocks the address for ``block``:
every invitation request from it answers 429 with ``Retry-After``. The counts live in the
process: with several workers each counts its own share, which still bounds guessing to a few
dozen attempts a minute per worker (a 256-bit token makes that harmless; the throttle keeps
the logs and the database quiet).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class InvitationThrottle:
    limit: int = 20
    window: float = 60.0
    block: float = 15 * 60.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _blocked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, address: str, now: float | None = None) -> int | None:
        """Seconds until the address may try again, or None when it is not blocked."""
        now = time.monotonic() if now is None else now
        with self._lock:
            until = self._blocked_until.get(address)
            if until is None or until <= now:
                self._blocked_until.pop(address, None)
                return None
            return max(1, int(until - now))

    def failed(self, address: str, now: float | None = None) -> None:
        """Count one failed attempt; block the address when it passes the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            attempts = self._failures.setdefault(address, deque())
            attempts.append(now)
            while attempts and attempts[0] <= now - self.window:
                attempts.popleft()
            if len(attempts) > self.limit:
                self._blocked_until[address] = now + self.block
                attempts.clear()
            if len(self._failures) > 10_000:  # bounded memory under a scan of many addresses
                self._failures.pop(next(iter(self._failures)))
