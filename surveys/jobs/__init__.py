"""Background jobs: long work (figure series, big exports) run outside the request."""
