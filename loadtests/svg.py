"""Small inline-SVG line charts for the capacity report: no JavaScript, no CDN, prints and archives.

A report is handed over and opened years later, perhaps offline; a chart drawn as SVG inside the
HTML survives that. One function draws time series with shaded stage bands and limit lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

PALETTE = ("#1f6feb", "#d1242f", "#9a6700", "#1a7f37", "#8250df", "#57606a")


@dataclass
class Series:
    label: str
    points: list[tuple[float, float | None]]
    color: str = ""
    dashed: bool = False
    dots: bool = False


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    bands: list[tuple[float, float, str]] = field(default_factory=list)
    hlines: list[tuple[float, str]] = field(default_factory=list)
    markers: list[tuple[float, float, str]] = field(default_factory=list)
    width: int = 820
    height: int = 260


def nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.3g}"
    return f"{v:.2g}"


def render(chart: Chart) -> str:
    left, right, top, bottom = 60, 150, 28, 40
    w, h = chart.width, chart.height
    pw, ph = w - left - right, h - top - bottom
    xs = [x for s in chart.series for x, y in s.points if y is not None] + [b[1] for b in chart.bands]
    ys = [y for s in chart.series for _, y in s.points if y is not None] + [v for v, _ in chart.hlines]
    ys += [m[1] for m in chart.markers]
    x_max = nice_max(max(xs, default=1.0))
    y_max = nice_max(max(ys, default=1.0) * 1.05)

    def px(x: float) -> float:
        return left + pw * x / x_max

    def py(y: float) -> float:
        return top + ph - ph * y / y_max

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        f'role="img" aria-label="{escape(chart.title)}" font-family="system-ui, sans-serif" font-size="11">',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(chart.title)}</text>',
    ]
    for i, (x0, x1, label) in enumerate(chart.bands):
        fill = "#f6f8fa" if i % 2 == 0 else "#eaeef2"
        out.append(
            f'<rect x="{px(x0):.1f}" y="{top}" width="{max(px(x1) - px(x0), 0):.1f}" height="{ph}" fill="{fill}">'
            f"<title>{escape(label)}</title></rect>"
        )
    for i in range(6):
        yv = y_max * i / 5
        y = py(yv)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#d0d7de" stroke-width="0.5"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt(yv)}</text>')
    for i in range(6):
        xv = x_max * i / 5
        x = px(xv)
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{fmt(xv)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#57606a"/>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 6}" text-anchor="middle">{escape(chart.x_label)}</text>')
    out.append(
        f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle">{escape(chart.y_label)}</text>'
    )
    for value, label in chart.hlines:
        y = py(value)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#cf222e" stroke-dasharray="6 3"/>'
        )
        out.append(
            f'<text x="{left + pw - 4}" y="{y - 4:.1f}" text-anchor="end" fill="#cf222e">{escape(label)}</text>'
        )
    for i, s in enumerate(chart.series):
        color = s.color or PALETTE[i % len(PALETTE)]
        for run in _runs(s.points):
            if len(run) == 1 or s.dots:
                for x, y in run:
                    out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
            if len(run) > 1:
                d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in run)
                dash = ' stroke-dasharray="4 3"' if s.dashed else ""
                out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.6"{dash}/>')
        ly = top + 14 + 16 * i
        out.append(
            f'<line x1="{left + pw + 12}" y1="{ly - 4}" x2="{left + pw + 30}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>'
        )
        out.append(f'<text x="{left + pw + 34}" y="{ly}">{escape(s.label)}</text>')
    for x, y, label in chart.markers:
        out.append(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="6" fill="none" stroke="#cf222e" stroke-width="2"/>'
            f'<text x="{px(x) + 9:.1f}" y="{py(y) - 8:.1f}" fill="#cf222e" font-weight="600">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _runs(points: list[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Split a series at missing values so a gap in the data is a gap in the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if r]
