"""Small GISCO-shaped NUTS files for tests: boxes named like regions, written as GeoJSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from shapely.geometry import box, mapping

Bounds = tuple[float, float, float, float]


def write_nuts_file(path: Path, regions: Mapping[str, Bounds], *, level: int = 2) -> Path:
    """A GeoJSON FeatureCollection in EPSG:4326 with one box per region (west, south, east,
    north), with the properties of a GISCO NUTS file; the country is the code's first two
    letters."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "NUTS_ID": code,
                "LEVL_CODE": level,
                "CNTR_CODE": code[:2],
                "NAME_LATN": f"Region {code}",
            },
            "geometry": mapping(box(*bounds)),
        }
        for code, bounds in regions.items()
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path
