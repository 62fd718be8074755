"""Map views computed once per data version, kept in the process that serves them.

A map page costs a second or more to compute (the indicator per area, its classes, equity,
distances to care, the simplified layer and the Leaflet fragment) and a fraction of that to
render once computed. Each view is kept under a key naming what it shows (the
:class:`~mapping.service.MapRequest`, which indicators the actor may see) and
:func:`mapping.queries.data_version`, one query over everything it is computed from. While the
data stays the same, a view is served from here; once any of it changes, the key changes and
the next view is computed afresh (the old entry ages out). Every process keeps its own entries:
nothing is shared between workers, and nothing needs to be invalidated by hand.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

_T = TypeVar("_T")

MAX_ENTRIES = 128
"""Views kept per process (each a few hundred kilobytes): every indicator of a campaign at both
levels, with its page fragment and table, fits several times over."""

NONCE_PLACEHOLDER = secrets.token_hex(16)
"""The CSP nonce a cached fragment is rendered with, replaced by each response's own nonce
(hex digits only: a valid nonce, and no escaped text can spell it by chance)."""


class ViewCache:
    """A bounded, thread-safe map from keys to computed views, least recently used out first.

    Two threads that miss the same key at once both compute it; both results are right and the
    later one is kept. ``hits`` and ``misses`` count lookups (the tests read them).
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._versions: dict[Hashable, Hashable] = {}
        self._members: dict[Hashable, set[Hashable]] = {}
        self._lock = threading.Lock()

    def get_or_build(
        self,
        key: Hashable,
        build: Callable[[], _T],
        *,
        family: Hashable = None,
        version: Hashable = None,
    ) -> _T:
        """The value kept under ``key``, or ``build()`` kept under it.

        A ``family`` groups the entries of one view (the map and the parts derived from it)
        across data versions: when an entry of a new ``version`` is kept, those of the
        family's older version are dropped at once, so a page viewed while the data keeps
        changing holds one version in memory, not as many as the bound allows.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                found: _T = self._entries[key]
                return found
            self.misses += 1
        value = build()
        with self._lock:
            if family is not None:
                if self._versions.get(family, version) != version:
                    for old in self._members.pop(family, set()):
                        self._entries.pop(old, None)
                self._versions[family] = version
                self._members.setdefault(family, set()).add(key)
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            if len(self._versions) > 4 * self.max_entries:  # families of long-gone views
                live = set(self._entries)
                self._members = {f: m & live for f, m in self._members.items() if m & live}
                self._versions = {f: v for f, v in self._versions.items() if f in self._members}
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every view (the counters too)."""
        with self._lock:
            self._entries.clear()
            self._versions.clear()
            self._members.clear()
            self.hits = self.misses = 0


VIEWS = ViewCache()
"""The process's map views."""


def with_nonce(
    key: Hashable,
    nonce: str,
    render: Callable[[str], str],
    *,
    family: Hashable = None,
    version: Hashable = None,
) -> str:
    """An HTML fragment rendered once per key with :data:`NONCE_PLACEHOLDER`, served with the
    response's own CSP nonce (``family`` and ``version`` as in :meth:`ViewCache.get_or_build`)."""
    fragment = VIEWS.get_or_build(
        ("fragment", key), lambda: render(NONCE_PLACEHOLDER), family=family, version=version
    )
    return fragment.replace(NONCE_PLACEHOLDER, nonce)
