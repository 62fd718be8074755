"""Jinja2 templates (autoescaped) and the paths of the project's own static assets."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from surveys.domains import DOMAIN_NAMES
from web import i18n

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Templates(directory=WEB_DIR / "templates")
# Interface strings through Babel catalogues: ``{{ _("Save draft") }}`` in the reader's language
# (``ui_language``, added to every context by ``i18n.template_context``).
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
    i18n.template_gettext, i18n.template_ngettext, newstyle=True
)
templates.env.filters["format_date"] = i18n.format_date
templates.env.filters["format_datetime"] = i18n.format_datetime
templates.context_processors.append(i18n.template_context)
i18n.load_catalogues()
templates.env.globals["domains"] = tuple(DOMAIN_NAMES.items())
