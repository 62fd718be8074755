"""Static figures of the evidence: barrier bars and a country's indicators against their
benchmarks, as PNG (300 dpi), SVG or PDF, drawn like :mod:`mapping.render.static` (matplotlib's
object API on a figure of its own, no ``pyplot``, a colour-blind safe palette, a note with the
sources and the date)."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import BinaryIO

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mapping.evidence.barriers import ALL_COUNTRIES, BarrierSummary
from mapping.evidence.profiles import CountryProfile
from mapping.render.static import Format
from surveys.domains import domain_name

BAR = "#2c7fb8"
"""The darkest but one class of the maps' YlGnBu palette."""
BELOW = "#a1dab4"
NOTE_SIZE = 7


def _save(figure: Figure, fmt: Format, out: Path | BinaryIO) -> None:
    FigureCanvasAgg(figure)
    metadata = {"Date": None} if fmt in {"svg", "pdf"} else {}
    figure.savefig(out, format=fmt, dpi=300, metadata=metadata)


def _note(figure: Figure, text: str) -> None:
    wrapped = textwrap.fill(f"{text} Drawn {dt.date.today().isoformat()}.", 130)
    figure.text(0.01, 0.005, wrapped, fontsize=NOTE_SIZE, va="bottom", ha="left", color="#444")


def barrier_figure(
    summary: BarrierSummary, fmt: Format, out: Path | BinaryIO, *, area: str = ALL_COUNTRIES
) -> None:
    """One panel per domain: the share of responding centres citing each barrier in ``area``
    (all countries by default), with the centres responding out of those invited."""
    rows = summary.for_area(area)
    domains = list(dict.fromkeys(rows["domain"]))
    heights = [max(1, int((rows["domain"] == d).sum())) * 0.28 + 0.7 for d in domains] or [1.0]
    with matplotlib.rc_context(
        {"svg.hashsalt": "accessgap", "svg.fonttype": "path", "pdf.fonttype": 42}
    ):
        figure = Figure(figsize=(7.5, sum(heights) + 1.1))
        grid = figure.add_gridspec(
            max(1, len(domains)),
            1,
            height_ratios=heights,
            top=0.93,
            bottom=0.9 / (sum(heights) + 1.1),
            left=0.42,
            right=0.95,
        )
        place = (
            "all countries"
            if area == ALL_COUNTRIES
            else rows["area_name"].iloc[0]
            if len(rows)
            else area
        )
        figure.suptitle(
            f"Barriers to access reported by centres, {place}", fontsize=10, x=0.01, ha="left"
        )
        for index, domain in enumerate(domains):
            axes = figure.add_subplot(grid[index])
            mine = rows[rows["domain"] == domain]
            shares = mine["share"].astype(float).fillna(0) * 100
            labels = [textwrap.shorten(str(t), 55) for t in mine["barrier_label"]]
            positions = list(range(len(mine)))[::-1]
            axes.barh(positions, shares, color=BAR, height=0.7)
            axes.set_yticks(positions, labels, fontsize=7)
            axes.set_xlim(0, 100)
            axes.tick_params(axis="x", labelsize=7)
            responding = int(mine["responding"].iloc[0]) if len(mine) else 0
            invited = int(mine["invited"].iloc[0]) if len(mine) else 0
            axes.set_title(
                f"{domain_name(domain)} ({responding} of {invited} centres responding)",
                fontsize=8,
                loc="left",
            )
            for spine in ("top", "right"):
                axes.spines[spine].set_visible(False)
            if index == len(domains) - 1:
                axes.set_xlabel("% of responding centres citing the barrier", fontsize=7)
        _note(figure, f"Survey: {summary.campaign.name}.")
        _save(figure, fmt, out)


def profile_figure(profile: CountryProfile, fmt: Format, out: Path | BinaryIO) -> None:
    """Each indicator of the country as a share of its benchmark (100% = at the benchmark),
    grouped by domain; indicators without data or without a benchmark are listed as such."""
    lines = list(profile.lines)
    height = 0.22 * len(lines) + 1.6
    with matplotlib.rc_context(
        {"svg.hashsalt": "accessgap", "svg.fonttype": "path", "pdf.fonttype": 42}
    ):
        figure = Figure(figsize=(7.5, height))
        axes = figure.add_axes((0.45, 0.9 / height, 0.5, 1 - 1.5 / height))
        positions = list(range(len(lines)))[::-1]
        shares, colours, labels = [], [], []
        for line in lines:
            share = line.share_of_benchmark
            shares.append(0.0 if share is None else share * 100)
            good = share is not None and (share >= 1 if not line.lower_is_better else share <= 1)
            colours.append(BAR if good else BELOW)
            suffix = (
                " (no data)" if line.value is None else " (no benchmark)" if share is None else ""
            )
            labels.append(f"{domain_name(line.domain)}: {textwrap.shorten(line.label, 40)}{suffix}")
        axes.barh(positions, shares, color=colours, height=0.7)
        axes.axvline(100, color="#444", linewidth=0.8, linestyle="--")
        axes.set_yticks(positions, labels, fontsize=6)
        axes.tick_params(axis="x", labelsize=7)
        axes.set_xlabel(
            "% of the benchmark (dashed line: the benchmark; lower is better for waiting times)",
            fontsize=7,
        )
        for spine in ("top", "right"):
            axes.spines[spine].set_visible(False)
        figure.suptitle(
            f"{profile.country_name}: indicators against their benchmarks",
            fontsize=10,
            x=0.01,
            ha="left",
        )
        _note(figure, profile.source_note)
        _save(figure, fmt, out)
