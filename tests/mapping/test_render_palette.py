import geopandas as gpd
import pytest
from branca.utilities import color_brewer
from shapely.geometry import MultiPolygon, box

from mapping.classify import LOW_COVERAGE, NO_DATA
from mapping.render import HATCH_STYLES, MAIN_WINDOW, class_colours, main_frame


@pytest.mark.parametrize("n", range(3, 10))
def test_palette_is_colorbrewer_ylgnbu(n: int) -> None:
    # branca ships its own copy of the ColorBrewer schemes: an independent check of ours.
    assert list(class_colours(n)) == color_brewer("YlGnBu", n)


def test_palette_runs_from_light_to_dark() -> None:
    def lightness(colour: str) -> float:
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    for n in range(1, 10):
        values = [lightness(colour) for colour in class_colours(n)]
        assert values == sorted(values, reverse=True)


def test_one_and_two_classes_and_limits() -> None:
    assert class_colours(0) == ()
    assert len(class_colours(1)) == 1
    assert class_colours(2) == ("#edf8b1", "#2c7fb8")
    with pytest.raises(ValueError, match="1 to 9"):
        class_colours(10)


def test_no_data_and_low_coverage_look_different_from_values_and_each_other() -> None:
    no_data, low = HATCH_STYLES[NO_DATA], HATCH_STYLES[LOW_COVERAGE]
    assert no_data.hatch != low.hatch
    assert no_data.background != low.background
    assert not {no_data.background, low.background} & set(class_colours(9))


def test_main_frame_leaves_out_remote_parts_and_names_remote_areas() -> None:
    mainland = box(10, 50, 11, 51)
    with_canaries = MultiPolygon([box(-3, 40, -2, 41), box(-17, 28, -16, 29)])
    reunion = box(55, -21.5, 56, -20.5)
    areas = gpd.GeoSeries([mainland, with_canaries, reunion], crs=4326)
    (west, south, east, north), outside = main_frame(areas)
    assert (west, south, east, north) == (-3, 40, 11, 51)
    assert outside.tolist() == [False, False, True]
    # In a projected CRS the bounds come back in that CRS.
    bounds_3035, _ = main_frame(areas.to_crs(3035))
    assert bounds_3035[0] > 2_000_000
    assert MAIN_WINDOW == (-25.0, 34.0, 45.0, 72.0)
