"""The demo's official series for radiotherapy: IAEA DIRAC's megavoltage units per country.

A fitting comparison for the survey's radiotherapy indicator ``rt_mv_units_per_million``: the
survey counts the megavoltage units of the centres that answered, DIRAC those of every centre
it lists. It is **demo comparison material**, labelled so in its source: DIRAC depends on
self-reporting, its country records were last updated between 2017 and 2026 (the year of each
record is the figure's year), and the values were transcribed by hand (trust level C, see
``surveys/demo/data/PROVENANCE.md``). The synthetic demo's answers are themselves sized on
DIRAC, so the demo shows how the comparison reads, not a finding.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from mapping.official_statistics import ReferenceImport, import_reference
from surveys.demo.reference import DIRAC_CITATION, dirac_resources
from surveys.policy import system_actor

DIRAC_INDICATOR = "rt_mv_units_per_million"
DIRAC_SOURCE = f"{DIRAC_CITATION}; demo comparison series (trust level C, self-reported)"
OLD_RECORD_YEARS = 4
"""A DIRAC record older than this many years before the newest one is flagged as old."""
DEMO_REFERENCE_ACTOR = system_actor("system:demo")


def dirac_series_csv() -> str:
    """DIRAC's megavoltage units per country as a reference series (the import's columns).

    Examples
    --------
    >>> dirac_series_csv().splitlines()[0]
    'area_code,year,indicator,value,source,flag'
    """
    resources = dirac_resources()
    newest = max(r.last_update_year for r in resources.values())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area_code", "year", "indicator", "value", "source", "flag"])
    for code, figures in sorted(resources.items()):
        flag = "self-reported"
        if figures.last_update_year <= newest - OLD_RECORD_YEARS:
            flag += f"; record last updated {figures.last_update_year}"
        writer.writerow(
            [code, figures.last_update_year, DIRAC_INDICATOR, figures.mv_units, DIRAC_SOURCE, flag]
        )
    return out.getvalue()


def load_demo_reference(session: Session, *, request_id: str | None = None) -> ReferenceImport:
    """Import the DIRAC series through the same audited use case as a coordinator's file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dirac_mv_units_demo_series.csv"
        path.write_text(dirac_series_csv(), encoding="utf-8")
        return import_reference(session, DEMO_REFERENCE_ACTOR, path, request_id=request_id)
