"""Write the roll-up: `portals.html` (one page, Vietnamese first with an English switch, A4 when
printed, each portal linking its own weekly report) and `portals.json` (the same figures)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from dvcwatch.core.atomic import write_text
from dvcwatch.core.steps import STEP_LABELS
from dvcwatch.orchestration.weekly_report.portals import Rollup
from dvcwatch.orchestration.weekly_report.render import ARROWS, JSON_SCHEMA_VERSION, TEMPLATES, TRENDS

HTML, JSON = "portals.html", "portals.json"


def render_html(roll: Rollup, generated_at: datetime) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("portals.html.j2").render(
        roll=roll,
        arrows=ARROWS,
        trends=TRENDS,
        steps=STEP_LABELS,
        generated=generated_at.isoformat(timespec="minutes"),
    )


def to_json(roll: Rollup, generated_at: datetime) -> str:
    doc = {"schema_version": JSON_SCHEMA_VERSION, "generated_at": generated_at.isoformat(timespec="seconds")}
    doc.update(asdict(roll))
    return json.dumps(doc, ensure_ascii=False, indent=2)


def write(roll: Rollup, out_dir: Path, generated_at: datetime) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    html, data = out_dir / HTML, out_dir / JSON
    write_text(html, render_html(roll, generated_at))
    write_text(data, to_json(roll, generated_at))
    return html, data
