"""Static figures of the evidence: barrier bars and a country's indicators against their
benchmarks, as PNG (300 dpi), SVG or PDF, drawn like :mod:`mapping.render.static` (matplotlib's
object API on a figure of its own, no ``pyplot``, a colour-blind safe palette, a note with the
sources and the date)."""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mapping.evidence.barriers import ALL_COUNTRIES, BarrierSummary, domain_rank
from mapping.evidence.profiles import CountryProfile
from mapping.render import Format
from surveys.domains import domain_name

BAR = "#2c7fb8"
"""The darkest but one class of the maps' YlGnBu palette."""
BELOW = "#a1dab4"
NOTE_SIZE = 7


def _save(figure: Figure, fmt: Format, out: Path | BinaryIO) -> None:
    FigureCanvasAgg(figure)
    metadata = {"Date": None} if fmt in {"svg", "pdf"} else {}
    figure.savefig(out, format=fmt, dpi=300, metadata=metadata)


NOTE_WIDTH = 130
"""Characters per line of the note (7 pt on a 7.5 in wide figure)."""
NOTE_LINE_IN = 0.13
WIDTH_IN = 7.5


def _note_text(text: str) -> str:
    return textwrap.fill(f"{text} Drawn {dt.date.today().isoformat()}.", NOTE_WIDTH)


def _note_height(note: str) -> float:
    """The inches a wrapped note takes at the foot of a figure, with its margin."""
    return (note.count("\n") + 1) * NOTE_LINE_IN + 0.15


def _note(figure: Figure, note: str) -> None:
    figure.text(0.01, 0.005, note, fontsize=NOTE_SIZE, va="bottom", ha="left", color="#444")


def barrier_figure(
    summary: BarrierSummary, fmt: Format, out: Path | BinaryIO, *, area: str = ALL_COUNTRIES
) -> None:
    """One panel per domain: the share of responding centres citing each barrier in ``area``
    (all countries by default), with the centres responding out of those invited."""
    rows = summary.for_area(area)
    domains = sorted(dict.fromkeys(rows["domain"]), key=domain_rank)
    # Inches: the title on top, one panel per domain (a title, its bars, its axis), the note.
    panels = [int((rows["domain"] == d).sum()) * 0.28 + 0.75 for d in domains] or [1.0]
    note = _note_text(f"Survey: {summary.campaign.name}.")
    top, foot = 0.55, _note_height(note) + 0.35
    height = top + sum(panels) + foot
    with matplotlib.rc_context(
        {"svg.hashsalt": "accessgap", "svg.fonttype": "path", "pdf.fonttype": 42}
    ):
        figure = Figure(figsize=(WIDTH_IN, height))
        grid = figure.add_gridspec(
            max(1, len(domains)),
            1,
            height_ratios=panels,
            top=1 - top / height,
            bottom=foot / height,
            left=0.42,
            right=0.93,
            hspace=0.75 / (sum(panels) / max(1, len(panels))),
        )
        place = (
            "all countries"
            if area == ALL_COUNTRIES
            else rows["area_name"].iloc[0]
            if len(rows)
            else area
        )
        figure.suptitle(
            f"Barriers to access reported by centres, {place}",
            fontsize=10,
            x=0.01,
            y=1 - 0.15 / height,
            ha="left",
            va="top",
        )
        for index, domain in enumerate(domains):
            axes = figure.add_subplot(grid[index])
            mine = rows[rows["domain"] == domain]
            shares = mine["share"].astype(float) * 100
            labels = [textwrap.shorten(str(t), 55) for t in mine["barrier_label"]]
            positions = list(range(len(mine)))[::-1]
            axes.barh(positions, shares.fillna(0), color=BAR, height=0.7)
            for position, share in zip(positions, shares, strict=True):
                text = "no data" if share != share else f"{share:.0f}%"
                axes.text(
                    (0 if share != share else share) + 1,
                    position,
                    text,
                    fontsize=6,
                    va="center",
                    color="#333",
                )
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
        _note(figure, note)
        _save(figure, fmt, out)


@dataclass(frozen=True)
class _Row:
    """One row of the profile figure: a domain heading, or an indicator as % of its benchmark."""

    label: str
    percent: float | None
    heading: bool = False
    good: bool = False


def profile_figure(profile: CountryProfile, fmt: Format, out: Path | BinaryIO) -> None:
    """Each indicator of the country as a share of its benchmark (100% = at the benchmark),
    under a heading per domain; indicators without data or without a benchmark are listed as
    such. Dark bars are at or better than the benchmark, light ones worse."""
    rows: list[_Row] = []
    for domain, lines in profile.by_domain().items():
        rows.append(_Row(domain_name(domain), None, heading=True))
        for line in lines:
            share = line.share_of_benchmark
            suffix = (
                " (no data)"
                if line.value is None
                else " (no benchmark)"
                if line.benchmark is None
                else " (benchmark 0)"
                if share is None
                else ""
            )
            label = textwrap.shorten(line.label, 58 - len(suffix), placeholder=" [...]") + suffix
            percent = None if share is None else share * 100
            good = percent is not None and (
                percent <= 100 if line.lower_is_better else percent >= 100
            )
            rows.append(_Row(label, percent, good=good))
    note = _note_text(profile.source_note)
    # Inches: title and legend, one row per line, the axis and its label, then the note.
    top, row, foot = 0.75, 0.2, 0.55 + _note_height(note)
    height = top + row * max(1, len(rows)) + foot
    with matplotlib.rc_context(
        {"svg.hashsalt": "accessgap", "svg.fonttype": "path", "pdf.fonttype": 42}
    ):
        figure = Figure(figsize=(WIDTH_IN, height))
        left = 3.6 / WIDTH_IN
        axes = figure.add_axes((left, foot / height, 0.95 - left, (height - top - foot) / height))
        positions = list(range(len(rows)))[::-1]
        axes.barh(
            positions,
            [r.percent or 0.0 for r in rows],
            color=[BAR if r.good else BELOW for r in rows],
            height=0.7,
        )
        axes.axvline(100, color="#444", linewidth=0.8, linestyle="--")
        axes.set_yticks(positions, [r.label for r in rows], fontsize=6)
        for tick, r in zip(axes.get_yticklabels(), rows, strict=True):
            if r.heading:
                tick.set_fontweight("bold")
                tick.set_fontsize(7)
        axes.tick_params(axis="y", length=0)
        axes.tick_params(axis="x", labelsize=7)
        axes.set_ylim(-0.7, len(rows) - 0.3)
        axes.set_xlabel(
            "% of the benchmark (dashed line: at the benchmark; for waiting times lower is better)",
            fontsize=7,
        )
        for spine in ("top", "right"):
            axes.spines[spine].set_visible(False)
        axes.legend(
            handles=[
                Patch(color=BAR, label="At or better than the benchmark"),
                Patch(color=BELOW, label="Worse than the benchmark"),
            ],
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncol=2,
            fontsize=7,
            frameon=False,
            borderaxespad=0.2,
        )
        figure.suptitle(
            f"{profile.country_name}: indicators against their benchmarks",
            fontsize=10,
            x=0.01,
            y=1 - 0.12 / height,
            ha="left",
            va="top",
        )
        _note(figure, note)
        _save(figure, fmt, out)
