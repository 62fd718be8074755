"""The HTML legend under an interactive map: every class with its bounds and count, the hatched
"no data" and "low coverage" classes, the grey areas outside the study, and the two kinds of
centre dots.

Every text is escaped with :func:`html.escape`; the swatches are inline styles (the page's CSP
allows styles, and the legend must look the same without the app's stylesheet).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from mapping.classify import OUTSIDE_STUDY, Classification
from mapping.render import (
    BORDER_COLOUR,
    CENTRE_NOT_OFFERING_COLOUR,
    CENTRE_OFFERING_COLOUR,
    HATCH_STYLES,
    OUTSIDE_STUDY_COLOUR,
    HatchStyle,
    class_colours,
)

_SWATCH = (
    "display:inline-block;width:1.4em;height:1em;vertical-align:middle;"
    f"margin-right:0.4em;border:1px solid {BORDER_COLOUR};"
)


def legend_html(
    classification: Classification,
    value_label: str,
    with_centres: bool,
    centre_labels: tuple[str, str],
    drawn: Sequence[Any] | None = None,
) -> str:
    """The legend as an HTML ``<div class="ag-map__legend">``.

    ``drawn`` are the ids of the areas on the map; those the classification does not name are
    counted as "Outside the study" (see :meth:`mapping.classify.Classification.legend`).

    Examples
    --------
    >>> import pandas as pd
    >>> from mapping.classify import classify
    >>> classes = classify(pd.Series([1.0, 2.0], index=["A", "B"]), "equal_interval", k=2)
    >>> legend_html(classes, "<units>", False, ("yes", "no")).count("<li>")
    2
    >>> "&lt;units&gt;" in legend_html(classes, "<units>", False, ("yes", "no"))
    True
    """
    colours = class_colours(len(classification.classes))
    items = []
    for entry in classification.legend(drawn):
        if entry.code in HATCH_STYLES:
            background = css_hatch(HATCH_STYLES[entry.code])
        elif entry.code == OUTSIDE_STUDY:
            background = f"background:{OUTSIDE_STUDY_COLOUR}"
        else:
            background = f"background:{colours[entry.code]}"
        items.append(
            f'<li><span aria-hidden="true" style="{_SWATCH}{background}"></span>'
            f"{html.escape(entry.label)} <span>({entry.count})</span></li>"
        )
    if with_centres:
        for colour, text in (
            (CENTRE_OFFERING_COLOUR, centre_labels[0]),
            (CENTRE_NOT_OFFERING_COLOUR, centre_labels[1]),
        ):
            items.append(
                '<li><span aria-hidden="true" style="display:inline-block;width:0.7em;'
                "height:0.7em;border-radius:50%;border:1.5px solid #000000;margin:0 0.75em 0 "
                f'0.3em;vertical-align:middle;background:{colour}"></span>'
                f"{html.escape(text)}</li>"
            )
    return (
        '<div class="ag-map__legend" style="margin:0.5em 0">'
        f'<p style="font-weight:bold;margin:0 0 0.25em">{html.escape(value_label)}</p>'
        '<ul style="list-style:none;margin:0;padding:0">' + "".join(items) + "</ul></div>"
    )


def css_hatch(style: HatchStyle) -> str:
    """A CSS background drawing the hatch of a class: diagonal lines or dots.

    Examples
    --------
    >>> from mapping.render import NO_DATA_STYLE
    >>> css_hatch(NO_DATA_STYLE).startswith("background:repeating-linear-gradient")
    True
    """
    if "/" in style.hatch:
        return (
            f"background:repeating-linear-gradient(45deg,{style.ink} 0 1px,"
            f"{style.background} 1px 5px)"
        )
    return (
        f"background:radial-gradient(circle,{style.ink} 0 1px,transparent 1.5px) 0 0/5px 5px,"
        f"{style.background}"
    )
