"""Where the real reference files of ``../shared/data`` are (see its README).

The folder sits beside the checkout; a git worktree is one level deeper than the main checkout,
so look in every folder above this file rather than at one fixed distance.
"""

from __future__ import annotations

from pathlib import Path


def _shared_data() -> Path:
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[3] / "shared" / "data"  # absent: tests skip


SHARED_DATA = _shared_data()
GISCO_DIR = SHARED_DATA / "gisco"
GISCO_LEVEL_2 = GISCO_DIR / "NUTS_RG_20M_2021_4326_LEVL_2.geojson"
