"""What can go wrong with campaigns and invitations, each with its stable code."""

from __future__ import annotations

from surveys.errors import Conflict, ErrorKind, InvalidInput, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class CampaignClosed(Conflict):
    code = "campaign_closed"
    title = "The campaign is closed"


class CampaignStateConflict(Conflict):
    code = "campaign_state"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    title = "Invitation not found"


class InvitationExpired(InvalidInput):
    code = "invitation_expired"
    kind = ErrorKind.GONE
    title = "This invitation has expired"


class GrantNotFound(NotFound):
    code = "grant_not_found"


class NotAResearcher(InvalidInput):
    code = "not_a_researcher"
