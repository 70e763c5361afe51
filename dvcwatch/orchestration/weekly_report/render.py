"""Write `report.html` (one page, Vietnamese first with an English switch, A4 when printed) and
`report.json` (the same figures, for a district's own tools) into an output folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from dvcwatch.core.atomic import write_text
from dvcwatch.core.steps import STEP_LABELS
from dvcwatch.orchestration.weekly_report.charts import share_chart, time_chart
from dvcwatch.orchestration.weekly_report.figures import Figures
from playwright_journeys.scorecard import message_vi

TEMPLATES = Path(__file__).with_name("templates")
ARROWS = {"up": "▲", "down": "▼", "flat": "▶", "new": "•", "none": ""}
TRENDS = {
    "up": ("tốt lên", "better"),
    "down": ("kém đi", "worse"),
    "flat": ("như cũ", "unchanged"),
    "new": ("mới", "new"),
    "none": ("chưa có lượt", "no journey"),
}
JSON_SCHEMA_VERSION = 1


def _link(path: str | None, out_dir: Path) -> str | None:
    """Evidence is linked relative to the report when it can be, so a copied folder keeps working."""
    if not path:
        return None
    try:
        return os.path.relpath(path, out_dir.resolve())
    except ValueError:
        return Path(path).as_uri()


def _duration(seconds: float) -> tuple[str, str]:
    hours = seconds / 3600
    if hours >= 48:
        return f"{hours / 24:.1f} ngày", f"{hours / 24:.1f} days"
    if hours >= 1:
        return f"{hours:.1f} giờ", f"{hours:.1f} h"
    return f"{seconds / 60:.0f} phút", f"{seconds / 60:.0f} min"


def render_html(fig: Figures, out_dir: Path, generated_at: datetime) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["duration"] = _duration
    env.filters["vi"] = message_vi
    charts = {
        lang: {
            "share": share_chart(fig.services, lang),
            "time": time_chart(fig.services, fig.aim_seconds, lang),
        }
        for lang in ("vi", "en")
    }
    fixes = [(f, _link(f.scorecard, out_dir), _link(f.screenshot, out_dir)) for f in fig.fixes]
    return env.get_template("report.html.j2").render(
        fig=fig,
        charts=charts,
        fixes=fixes,
        arrows=ARROWS,
        trends=TRENDS,
        steps=STEP_LABELS,
        generated=generated_at.isoformat(timespec="minutes"),
    )


def to_json(fig: Figures, generated_at: datetime) -> str:
    doc = {"schema_version": JSON_SCHEMA_VERSION, "generated_at": generated_at.isoformat(timespec="seconds")}
    doc.update(asdict(fig))
    return json.dumps(doc, ensure_ascii=False, indent=2)


def write(fig: Figures, out_dir: Path, generated_at: datetime) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    html, data = out_dir / "report.html", out_dir / "report.json"
    write_text(html, render_html(fig, out_dir, generated_at))
    write_text(data, to_json(fig, generated_at))
    return html, data
