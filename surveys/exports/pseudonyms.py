"""Keyed pseudonyms: what researchers see instead of centre ids and submission UUIDs.

``HMAC-SHA256(key, public id)`` in hex, cut to 16 characters (64 bits). The key is derived from the
deployment's secret and a **context**: the export's id, or the release's name (``CAMPAIGN-vN``).
So within one export or release a centre has one pseudonym in every table (its rows join), but two
exports, or two releases, give it different pseudonyms: a researcher cannot pool what several
downloads say about one pseudonym, and a centre re-identified in one file is not re-identified in
the others. Without the secret a pseudonym cannot be turned back into the id (a plain hash of a
UUID could be matched against the registry by anyone who has it).
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_LENGTH = 16


class Pseudonymiser:
    """Pseudonyms of centres and responses under one secret (``settings.pseudonym_secret``) and
    one context (an export id or a release name)."""

    def __init__(self, secret: str | bytes, *, context: str = "") -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not key:
            raise ValueError("the pseudonym secret is empty")
        if context:
            key = hmac.new(key, ("context:" + context).encode("utf-8"), hashlib.sha256).digest()
        self._key = key

    def _digest(self, message: str) -> str:
        mac = hmac.new(self._key, message.encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()[:PSEUDONYM_LENGTH]

    def centre(self, public_id: str) -> str:
        """The centre's pseudonym: HMAC-SHA256(secret, public id) in hex, first 16 characters."""
        return self._digest(public_id)

    def response(self, submission_uuid: str) -> str:
        """A response's key in pseudonymised tables (domain-separated from centre pseudonyms)."""
        return self._digest("response:" + submission_uuid)
