"""What an audit event says about the channel a use case was called through.

The actor's label names who acted (``user:7``, ``user:7/token:3``, ``system:cli``); a command run
on the server also says so in the event's details (``"via": "cli"``), as it always has. Pages and
the JSON API add nothing: their events carry the request id instead.
"""

from __future__ import annotations

from surveys.policy import Actor


def channel(actor: Actor) -> dict[str, str]:
    """``{"via": "cli"}`` for a command-line actor, nothing for the others."""
    return {"via": actor.via} if actor.via == "cli" else {}
