"""`report.html`: the capacity report for people, self-contained (inline SVG and CSS, no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from loadtests.svg import Chart, Series
from loadtests.svg import render as render_svg

TEMPLATES = Path(__file__).with_name("templates")


def charts(report: dict[str, Any]) -> dict[str, Markup]:
    rows = report["timeline"]
    stages = report["stage_plan"]
    bands = [(s["start"], s["end"], s["label"]) for s in stages]
    t = [r["t"] for r in rows]

    def col(key: str) -> list[tuple[float, float | None]]:
        return list(zip(t, [r[key] for r in rows], strict=True))

    load = Chart(
        "Load: citizens and requests per second",
        "seconds since start",
        "users · req/s",
        [Series("users", col("users")), Series("requests/s", col("requests_per_second"))],
        bands=bands,
    )
    p95_limits = [
        (g["limit"], g["name"].removeprefix("latency."))
        for g in report["gates"]
        if g["name"].endswith(".p95")
    ]
    latency = Chart(
        "Latency percentiles against time (all portal requests)",
        "seconds since start",
        "seconds",
        [Series("p50", col("p50")), Series("p95", col("p95")), Series("p99", col("p99"), dashed=True)],
        bands=bands,
        hlines=p95_limits[:3],
    )
    errors = Chart(
        "Failed requests per second",
        "seconds since start",
        "failures/s",
        [Series("failures/s", col("failures_per_second"), color="#d1242f")],
        bands=bands,
    )
    steady = sorted((s for s in report["stages"] if s["steady"]), key=lambda s: s["users_measured"])
    scaling_series = [
        Series(
            "successes/s per stage",
            [(s["users_measured"], s["successes_per_second"]) for s in steady],
            dots=True,
        ),
        Series(
            "p95 × 100 (s)",
            [(s["users_measured"], (s["p95"] or 0) * 100) for s in steady],
            dashed=True,
            dots=True,
        ),
    ]
    knee = report["knee"]
    markers = []
    if knee.get("found"):
        markers.append(
            (knee["users"], knee["requests_per_second"], f"knee {knee['requests_per_second']:.0f} req/s")
        )
    scaling = Chart(
        "Throughput against load (steady part of each stage)",
        "users",
        "successful req/s",
        scaling_series,
        markers=markers,
    )
    return {
        name: Markup(render_svg(c))
        for name, c in (("load", load), ("latency", latency), ("errors", errors), ("scaling", scaling))
    }


def render(report: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["num"] = _num
    template = env.get_template("report.html.j2")
    return template.render(r=report, charts=charts(report))


def _num(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)
