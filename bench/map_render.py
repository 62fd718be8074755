"""Map page weight and render time: our pipeline against a naive folium choropleth, side by side.

For the country map (the packaged Natural Earth 1:50m layer, 42 areas) and the NUTS-2 map (GISCO
1:20M, 333 regions) with random indicator values, it renders

(a) our pipeline: :func:`mapping.simplify.simplify_coverage` (seamless simplification, rounded
    coordinates), :func:`mapping.classify.classify` and
    :func:`mapping.render.interactive.choropleth_map` with indicator tooltips and the legend,
    wrapped in a standalone page;
(b) the naive page: ``folium.Choropleth`` of the unsimplified layer with all its properties, as
    folium's documentation shows it (default tiles and CDN assets),

and prints the page sizes, the render times (median of ``--repeat`` runs) and their ratios, then
writes ``bench/results/map_render.json``. Targets: NUTS-2 page at most 1.5 MB and at most 30% of
the naive page.

    .venv/bin/python bench/map_render.py [--repeat 5] [--tolerance-m 5000 10000]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from mapping.boundaries import read_nuts_geojson  # noqa: E402
from mapping.classify import classify  # noqa: E402
from mapping.reference import load_countries  # noqa: E402
from mapping.render.interactive import choropleth_map, map_page  # noqa: E402
from mapping.simplify import simplify_coverage  # noqa: E402

GISCO_LEVEL_2 = (
    REPO_ROOT.parent / "shared" / "data" / "gisco" / "NUTS_RG_20M_2021_4326_LEVL_2.geojson"
)
RESULTS = REPO_ROOT / "bench" / "results" / "map_render.json"
TARGET_BYTES = 1_500_000
TARGET_RATIO = 0.30


@dataclass(frozen=True)
class Measurement:
    layer: str
    tolerance_m: float
    areas: int
    vertices_input: int
    vertices_ours: int
    naive_bytes: int
    ours_bytes: int
    size_ratio: float
    naive_ms: float
    ours_ms: float
    ours_render_only_ms: float
    time_ratio: float


def indicator_frame(areas: gpd.GeoDataFrame, id_col: str, seed: int) -> gpd.GeoDataFrame:
    """Random indicator columns as the indicator pipeline produces them."""
    rng = np.random.default_rng(seed)
    n = len(areas)
    expected = rng.integers(1, 9, n)
    frame = gpd.GeoDataFrame(
        {
            "area_code": areas[id_col].to_numpy(),
            "area_name": areas["name"].to_numpy(),
            "value": rng.gamma(2.0, 2.0, n).round(2),
            "numerator": rng.integers(0, 40, n),
            "denominator": rng.integers(30_000, 9_000_000, n),
            "denominator_source": "Eurostat demo_r_pjan",
            "denominator_year": 2023,
            "expected": expected,
            "responding": np.minimum(expected, rng.integers(0, 9, n)),
        },
        geometry=areas.geometry.to_numpy(),
        crs=areas.crs,
    )
    frame.loc[rng.choice(n, max(1, n // 15), replace=False), "value"] = np.nan
    return frame


def ours(frame: gpd.GeoDataFrame, tolerance_m: float) -> tuple[str, int, float]:
    """Our page; also how long the render takes on boundaries simplified beforehand."""
    simple = simplify_coverage(frame, tolerance_m)
    values = simple.set_index("area_code")["value"]
    low = (simple["responding"] / simple["expected"] < 0.5).to_numpy()
    classes = classify(values, "quantiles", 5, low_coverage=pd.Series(low, index=values.index))
    started = time.perf_counter()
    fragment = choropleth_map(
        simple, classes, nonce="benchmarkNonce123", value_label="Scanners per million"
    )
    render_s = time.perf_counter() - started
    vertices = int(shapely.get_num_coordinates(simple.geometry.to_numpy()).sum())
    return map_page(fragment, title="Scanners per million"), vertices, render_s


def naive(raw: gpd.GeoDataFrame, key: str, values: pd.Series) -> str:
    import folium

    leaflet_map = folium.Map(location=[52, 12], zoom_start=4)
    folium.Choropleth(
        geo_data=raw,
        data=pd.DataFrame({"key": values.index, "value": values.to_numpy()}),
        columns=["key", "value"],
        key_on=f"feature.properties.{key}",
        fill_color="YlGnBu",
        bins=5,
        nan_fill_color="#f0f0f0",
    ).add_to(leaflet_map)
    html: str = leaflet_map.get_root().render()
    return html


def timed(function: Callable[[], object], repeat: int) -> float:
    """Median wall time in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def measure(
    layer: str,
    raw: gpd.GeoDataFrame,
    key: str,
    frame: gpd.GeoDataFrame,
    tolerance_m: float,
    repeat: int,
) -> Measurement:
    values = frame.set_index("area_code")["value"]
    naive_page = naive(raw, key, values)
    our_page, vertices, _ = ours(frame, tolerance_m)
    # Interleaved in the same run, so both see the same machine state.
    naive_ms = timed(lambda: naive(raw, key, values), repeat)
    ours_ms = timed(lambda: ours(frame, tolerance_m), repeat)
    render_only = 1000 * statistics.median(ours(frame, tolerance_m)[2] for _ in range(repeat))
    naive_bytes, our_bytes = len(naive_page.encode()), len(our_page.encode())
    return Measurement(
        layer=layer,
        tolerance_m=tolerance_m,
        areas=len(frame),
        vertices_input=int(shapely.get_num_coordinates(raw.geometry.to_numpy()).sum()),
        vertices_ours=vertices,
        naive_bytes=naive_bytes,
        ours_bytes=our_bytes,
        size_ratio=our_bytes / naive_bytes,
        naive_ms=naive_ms,
        ours_ms=ours_ms,
        ours_render_only_ms=render_only,
        time_ratio=ours_ms / naive_ms,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per page (median)")
    parser.add_argument(
        "--tolerance-m",
        type=float,
        nargs="+",
        default=[5_000, 10_000],
        help="simplification tolerances to compare; the first is judged against the targets",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    countries = load_countries()
    layers = [
        (
            "countries (Natural Earth 1:50m)",
            countries,
            "iso2",
            indicator_frame(countries, "iso2", seed=1),
        )
    ]
    if GISCO_LEVEL_2.exists():
        raw = gpd.read_file(GISCO_LEVEL_2)  # every GISCO property, as a naive page would
        regions = read_nuts_geojson(GISCO_LEVEL_2)
        layers.append(
            ("NUTS-2 (GISCO 1:20M)", raw, "NUTS_ID", indicator_frame(regions, "nuts_id", seed=2))
        )
    else:
        print(f"skipping NUTS-2: {GISCO_LEVEL_2} is absent", file=sys.stderr)

    results = [
        measure(name, raw, key, frame, tolerance, args.repeat)
        for name, raw, key, frame in layers
        for tolerance in args.tolerance_m
    ]

    header = (
        f"{'map':<32} {'tol km':>6} {'areas':>5} {'vertices':>15} {'naive kB':>9} {'ours kB':>8} "
        f"{'size':>6} {'naive ms':>9} {'ours ms':>8} {'(render)':>9} {'time':>6}"
    )
    print(header)
    print("-" * len(header))
    for m in results:
        print(
            f"{m.layer:<32} {m.tolerance_m / 1000:>6g} {m.areas:>5} "
            f"{m.vertices_input:>7}->{m.vertices_ours:<7} "
            f"{m.naive_bytes / 1000:>9.1f} {m.ours_bytes / 1000:>8.1f} {m.size_ratio:>6.1%} "
            f"{m.naive_ms:>9.0f} {m.ours_ms:>8.0f} {m.ours_render_only_ms:>9.0f} "
            f"{m.time_ratio:>6.2f}"
        )
    verdicts = []
    for m in results:
        if m.layer.startswith("NUTS-2") and m.tolerance_m == args.tolerance_m[0]:
            ok = m.ours_bytes <= TARGET_BYTES and m.size_ratio <= TARGET_RATIO
            verdicts.append(ok)
            print(
                f"NUTS-2 target at {m.tolerance_m / 1000:g} km (<= {TARGET_BYTES / 1e6:.1f} MB "
                f"and <= {TARGET_RATIO:.0%} of naive): {'met' if ok else 'MISSED'}"
            )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "repeat": args.repeat,
                "python": platform.python_version(),
                "results": [asdict(m) for m in results],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"written {args.out.relative_to(REPO_ROOT)}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
