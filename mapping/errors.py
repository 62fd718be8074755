"""The errors of the mapping domain, each with a stable code (rendered by the adapters)."""

from __future__ import annotations

from surveys.errors import Conflict, InvalidInput, NotFound


class IndicatorNotFound(NotFound):
    """The campaign declares no such indicator (within the actor's domains)."""

    code = "indicator_not_found"


class NoMapCampaign(NotFound):
    """No campaign other than drafts exists, so there is nothing to map."""

    code = "no_map_campaign"


class NoRegions(Conflict):
    """A NUTS-2 map was asked for before any NUTS-2 region was imported: a well-formed request
    the server's state cannot answer yet (409, not 422)."""

    code = "regions_not_loaded"


class IncomparableUnits(InvalidInput):
    """A figure series would share classes between indicators measured in different units."""

    code = "series_units_differ"


class NoRegionalDenominator(NotFound):
    """A regional map of an indicator whose denominator exists per country only (new cancer
    cases: GLOBOCAN estimates countries): that map does not exist (404, not 422)."""

    code = "no_regional_denominator"
