"""The synthetic demo: centres, a campaign and its answers, all labelled synthetic."""

DEMO_CENTRE_COUNT = 1500
"""How many synthetic centres ``accessgap demo load`` creates by default (kept here, apart from
the loader, so the command line can show it without importing the loader)."""
