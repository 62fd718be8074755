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


class CountryNotInStudy(NotFound):
    """A country profile was asked for a country the campaign expects no centre in."""

    code = "country_not_in_study"


class DomainNotInCampaign(NotFound):
    """The campaign sends no questionnaire of that domain (within the actor's domains)."""

    code = "domain_not_in_campaign"


class BadDistances(InvalidInput):
    """The distances of a "who is left out" table are not usable."""

    code = "bad_distances"


class NotATechnology(InvalidInput):
    """The indicator does not say which centres offer a technology (a median or a mean)."""

    code = "not_a_technology"
