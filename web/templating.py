"""Jinja2 templates (autoescaped) and the paths of the project's own static assets."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.globals["domains"] = (
    ("nuclear_medicine", "Nuclear medicine"),
    ("radiomics", "Radiomics"),
    ("radiotherapy", "Innovative radiotherapy"),
    ("surgery", "Innovative surgery"),
    ("ablation", "Physical methods of ablation"),
    ("cell_therapy", "Cell therapies"),
    ("ex_vivo", "Ex-vivo testing of agents"),
)
