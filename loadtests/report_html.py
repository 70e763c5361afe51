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
    """The report's four charts as inline SVG: load, latency and errors against time, throughput against load."""
    drawn = {
        "load": _load_chart(report),
        "latency": _latency_chart(report),
        "errors": _errors_chart(report),
        "scaling": _scaling_chart(report),
    }
    return {name: Markup(render_svg(c)) for name, c in drawn.items()}


def _bands(report: dict[str, Any]) -> list[tuple[float, float, str]]:
    return [(s["start"], s["end"], s["label"]) for s in report["stage_plan"]]


def _column(report: dict[str, Any], key: str) -> list[tuple[float, float | None]]:
    """One timeline column against the seconds since start."""
    rows = report["timeline"]
    return list(zip([r["t"] for r in rows], [r[key] for r in rows], strict=True))


def _load_chart(report: dict[str, Any]) -> Chart:
    return Chart(
        "Load: citizens and requests per second",
        "seconds since start",
        "users · req/s",
        [
            Series("users", _column(report, "users")),
            Series("requests/s", _column(report, "requests_per_second")),
        ],
        bands=_bands(report),
    )


def _latency_chart(report: dict[str, Any]) -> Chart:
    """Percentiles against time, with the first three p95 gates drawn as limit lines."""
    p95_limits = [
        (g["limit"], g["name"].removeprefix("latency."))
        for g in report["gates"]
        if g["name"].endswith(".p95")
    ]
    return Chart(
        "Latency percentiles against time (all portal requests)",
        "seconds since start",
        "seconds",
        [
            Series("p50", _column(report, "p50")),
            Series("p95", _column(report, "p95")),
            Series("p99", _column(report, "p99"), dashed=True),
        ],
        bands=_bands(report),
        hlines=p95_limits[:3],
    )


def _errors_chart(report: dict[str, Any]) -> Chart:
    return Chart(
        "Failed requests per second",
        "seconds since start",
        "failures/s",
        [Series("failures/s", _column(report, "failures_per_second"), color="#d1242f")],
        bands=_bands(report),
    )


def _scaling_chart(report: dict[str, Any]) -> Chart:
    """Each steady stage's successes/s and p95 against its users, the knee marked when found."""
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
    return Chart(
        "Throughput against load (steady part of each stage)",
        "users",
        "successful req/s",
        scaling_series,
        markers=markers,
    )


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
