"""Registry of countries, regions, reference populations, centres and their contacts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow

REGION_PLACEMENTS = ("inside", "proximity")
"""How a centre got its NUTS-2 region: inside the polygon, or the nearest one within reach."""

CENTRE_TYPES = (
    "comprehensive_cancer_centre",
    "university_hospital",
    "general_hospital",
    "private_clinic",
    "research_institute",
    "other",
)


class Country(Base):
    """A country the network surveys, keyed by ISO 3166-1 alpha-2."""

    __tablename__ = "country"

    id: Mapped[int] = mapped_column(primary_key=True)
    iso2: Mapped[str] = mapped_column(String(2), unique=True)
    iso3: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    official_name: Mapped[str | None] = mapped_column(String(200))
    eu_member: Mapped[bool] = mapped_column(Boolean, default=False)
    eea_member: Mapped[bool] = mapped_column(Boolean, default=False)
    eu_candidate: Mapped[bool] = mapped_column(Boolean, default=False)


class Region(Base):
    """A statistical region (NUTS) of one NUTS version; geometry kept as GeoJSON in EPSG:4326."""

    __tablename__ = "region"
    __table_args__ = (
        UniqueConstraint("code", "nuts_version"),
        CheckConstraint("level BETWEEN 0 AND 3", name="level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), index=True)
    nuts_version: Mapped[str] = mapped_column(String(4))
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    country_id: Mapped[int] = mapped_column(ForeignKey("country.id"), index=True)
    geometry_geojson: Mapped[str | None] = mapped_column(Text)

    country: Mapped[Country] = relationship(lazy="raise")


class BoundaryVersion(Base):
    """A NUTS version of one level's boundaries held by the registry. One version per level is
    active: maps, indicators and figures read its regions only, never two versions at once."""

    __tablename__ = "boundary_version"
    __table_args__ = (
        UniqueConstraint("level", "nuts_version"),
        CheckConstraint("level BETWEEN 0 AND 3", name="level_range"),
        Index(
            "uq_boundary_version_one_active",
            "level",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    nuts_version: Mapped[str] = mapped_column(String(4))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    regions: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str | None] = mapped_column(String(300))
    imported_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)


class Population(Base):
    """A reference population figure for an area (a country or a NUTS region), with its source.

    ``area_code`` is the registry's country code or the NUTS code; a NUTS figure names the
    NUTS version its code belongs to (codes and borders change between versions).
    """

    __tablename__ = "population"
    __table_args__ = (
        UniqueConstraint("area_code", "year", "source"),
        CheckConstraint("value >= 0", name="value_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(10), index=True)
    area_level: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    nuts_version: Mapped[str | None] = mapped_column(String(4))


class Centre(Base):
    """A treatment centre with a stable public id that stays the same across survey waves."""

    __tablename__ = "centre"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        CheckConstraint(
            "region_placement IS NULL OR region_placement IN ('inside', 'proximity')",
            name="region_placement",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid.uuid4())
    )
    name: Mapped[str] = mapped_column(String(300))
    country_id: Mapped[int] = mapped_column(ForeignKey("country.id"), index=True)
    city: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    region_placement: Mapped[str | None] = mapped_column(String(10))
    region_distance_km: Mapped[float | None] = mapped_column(Float)
    centre_type: Mapped[str] = mapped_column(String(40), default="other")
    accreditations: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    provenance: Mapped[str | None] = mapped_column(String(300))
    last_verified: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    country: Mapped[Country] = relationship(lazy="raise")
    region: Mapped[Region | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's mapper hook


class Contact(Base):
    """A person at a centre. Personal data: kept apart from the centre and tagged as identifiers."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), info={"identifier": True})
    email: Mapped[str | None] = mapped_column(String(254), info={"identifier": True})
    phone: Mapped[str | None] = mapped_column(String(50), info={"identifier": True})
    role_title: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text, info={"identifier": True})
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[dt.datetime | None]

    centre: Mapped[Centre] = relationship(lazy="raise")


class ReferenceFigure(Base):
    """An official statistic beside the survey: one area's value of one indicator in one year.

    ``indicator`` is the id of the survey indicator it compares with; ``value`` is in the terms
    that indicator counts (a count of units for a ``sum``, the indicator's own unit otherwise,
    see ``docs/maps.md``); ``flag`` is the publisher's flag (``e`` estimated, ``p`` provisional,
    or a short caveat), empty when there is none.
    """

    __tablename__ = "reference_figure"
    __table_args__ = (UniqueConstraint("area_code", "year", "indicator", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(10), index=True)
    area_level: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(100), index=True)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    flag: Mapped[str] = mapped_column(String(100), default="")
    nuts_version: Mapped[str | None] = mapped_column(String(4))
