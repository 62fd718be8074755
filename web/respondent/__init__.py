"""The respondent side: what a centre sees after opening its invitation link."""
