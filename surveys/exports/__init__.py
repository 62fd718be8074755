"""Data out: CSV (long and wide), XLSX, a Frictionless data package with codebook, SPSS and Stata
files, GeoJSON, each streamed with bounded memory, pseudonymised for researchers, ending with a
manifest; and frozen, citable dataset releases. See ``docs/exports.md``."""
