"""Coordinator pages: campaigns (set up, open, close, reopen), invitations and reminders,
completion, and the review of submitted responses (comments, corrections, withdrawal, versions).

Thin adapters over the services the JSON API calls. Forms re-render with the input kept: 422 for
a problem with the input, 409 when someone else changed the response meanwhile. Domain leads read
the responses of their domains (the scope is in the queries); only coordinators and admins change
anything.
"""

from __future__ import annotations

from fastapi import APIRouter

from web.coordinator import campaigns, invitations, responses

router = APIRouter(include_in_schema=False)
router.include_router(campaigns.router)
router.include_router(invitations.router)
router.include_router(responses.router)
