"""The analysis service on the database: responses in, indicator per area and equity out."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping import service
from surveys.registry.models import Centre, Population
from surveys.responses.submission import start_draft, submit
from tests.builders import make_campaign, make_centre, make_published_form
from tests.databases import skip_or_fail

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "gisco"
FORM = """
| survey |
|        | type              | name    | label::en | required | relevant           |
|        | select_one yes_no | has_pet | PET/CT?   | yes      |                    |
|        | integer           | units   | Units     | yes      | ${has_pet} = 'yes' |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
| indicators |
|            | id          | numerator  | aggregation | denominator            | label::en           |
|            | pet_per_m   | ${units}   | sum         | population_per_million | PET/CT per million  |
|            | pet_share   | ${has_pet} | count_yes   | centres_responding     | Centres with PET/CT |
| settings |
|          | form_id | version | form_title | domain           |
|          | pet_map | 1       | PET        | nuclear_medicine |
"""


def populate(session: Session) -> object:
    for code, value in (("FR", 68_000_000), ("DE", 84_000_000), ("MT", 500_000)):
        session.add(
            Population(
                area_code=code, area_level="country", year=2024, value=value, source="test figures"
            )
        )
    centres = [
        make_centre(session, name=f"C{i}", country=c, latitude=lat, longitude=lon)
        for i, (c, lat, lon) in enumerate(
            [
                ("FR", 48.85, 2.35),
                ("FR", 45.76, 4.84),
                ("FR", 43.30, 5.37),
                ("FR", 44.84, -0.58),
                ("DE", 52.52, 13.40),
                ("DE", 48.14, 11.58),
                ("DE", 50.94, 6.96),
                ("DE", 53.55, 9.99),
                ("MT", 35.90, 14.51),
                ("MT", 36.04, 14.24),
            ]
        )
    ]
    version = make_published_form(session, FORM)
    campaign = make_campaign(
        session, slug=f"map-{uuid.uuid4().hex[:6]}", centres=centres, versions=[version]
    )
    answers = {0: ("yes", 2), 1: ("no", None), 2: ("yes", 5), 4: ("yes", 4)}
    for index, (has, units) in answers.items():
        payload = {"has_pet": has, **({"units": units} if units is not None else {})}
        submit(
            session,
            submission_uuid=str(uuid.uuid4()),
            campaign=campaign,
            centre=centres[index],
            version=version,
            answers=payload,
            now=NOW,
            actor="t",
        )
    start_draft(session, campaign, centres[3], version, now=NOW)  # a draft never counts
    return campaign


def test_indicator_values_from_submitted_responses(session: Session) -> None:
    campaign = populate(session)
    _, frame = service.indicator_values(session, campaign, "pet_per_m")  # type: ignore[arg-type]
    rows = frame.set_index("area_code")
    assert set(rows.index) == {"FR", "DE", "MT"}
    assert rows.loc["FR", "numerator"] == 7
    assert rows.loc["FR", "value"] == pytest.approx(7 / 68)
    assert rows.loc["FR", ["expected", "responding"]].tolist() == [4, 3]
    assert rows.loc["DE", "low_coverage"]
    assert rows.loc["MT", "no_data"]
    assert math.isnan(rows.loc["MT", "value"])
    assert rows.loc["FR", "denominator_source"] == "test figures"

    _, share = service.indicator_values(session, campaign, "pet_share")  # type: ignore[arg-type]
    assert share.set_index("area_code").loc["FR", "value"] == pytest.approx(200 / 3)


def test_equity_summary_over_areas_with_data(session: Session) -> None:
    campaign = populate(session)
    spec, frame = service.indicator_values(session, campaign, "pet_per_m")  # type: ignore[arg-type]
    summary = service.equity_summary(spec, frame)
    assert summary.areas_with_data == 2
    low, high = sorted([4 / 84, 7 / 68])
    assert summary.max_min_ratio == pytest.approx(high / low)
    assert 0 <= summary.gini < 1
    assert summary.benchmark == pytest.approx((low + high) / 2)  # EU median of two areas
    assert set(summary.gaps) == {"FR", "DE"}


def test_unknown_indicator_is_not_found(session: Session) -> None:
    campaign = populate(session)
    with pytest.raises(service.IndicatorNotFound):
        service.indicator_values(session, campaign, "nothing")  # type: ignore[arg-type]


def test_nuts2_boundaries_assign_centres_and_give_regional_values(session: Session) -> None:
    path = SHARED / "NUTS_RG_20M_2021_4326_LEVL_2.geojson"
    if not path.exists():
        skip_or_fail(f"the GISCO reference file is missing: {path}")
    campaign = populate(session)
    stored = service.import_boundaries(session, path, level=2, nuts_version="2021")
    assert stored > 250
    paris = session.scalar(select(Centre).where(Centre.name == "C0"))
    assert paris is not None
    region = service.areas_frame(session, "nuts2")
    assert "FR10" in set(region["area_code"])
    _, frame = service.indicator_values(
        session,
        campaign,
        "pet_per_m",  # type: ignore[arg-type]
        level="nuts2",
    )
    rows = frame.set_index("area_code")
    assert rows.loc["FR10", "numerator"] == 2  # the Paris centre's two units
    # No official regional figure imported yet: the denominator is the labelled approximation
    # from GeoNames places, and the value follows from it.
    assert rows.loc["FR10", "denominator_source"] == service.CITY_POPULATION_SOURCE
    assert rows.loc["FR10", "value"] == pytest.approx(2 / rows.loc["FR10", "denominator"] * 1e6)


def test_population_import(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text(
        "area_code,year,value,source\nFR10,2024,12300000,Eurostat demo_r_pjangrp3\n",
        encoding="utf-8",
    )
    assert service.import_population(session, path) == 1
    record = session.scalar(select(Population).where(Population.area_code == "FR10"))
    assert record is not None
    assert (record.area_level, record.value) == ("nuts2", 12_300_000)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,value\nFR,1\n", encoding="utf-8")
    with pytest.raises(Exception, match="missing column"):
        service.import_population(session, bad)
