"""Failure counters shared by every worker: sign-in and invitation-link throttles."""
