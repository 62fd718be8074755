"""Questionnaire definitions in XLSForm semantics: reading, the canonical model, writing."""
