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


@dataclass(frozen=True)
class _Frame:
    """The plot area inside the margins and the scales from data to pixels."""

    chart: Chart
    left: int = 60
    right: int = 150
    top: int = 28
    bottom: int = 40
    x_max: float = 1.0
    y_max: float = 1.0

    @classmethod
    def of(cls, chart: Chart) -> _Frame:
        xs = [x for s in chart.series for x, y in s.points if y is not None] + [b[1] for b in chart.bands]
        ys = [y for s in chart.series for _, y in s.points if y is not None] + [v for v, _ in chart.hlines]
        ys += [m[1] for m in chart.markers]
        return cls(chart, x_max=nice_max(max(xs, default=1.0)), y_max=nice_max(max(ys, default=1.0) * 1.05))

    @property
    def pw(self) -> int:
        return self.chart.width - self.left - self.right

    @property
    def ph(self) -> int:
        return self.chart.height - self.top - self.bottom

    def px(self, x: float) -> float:
        return self.left + self.pw * x / self.x_max

    def py(self, y: float) -> float:
        return self.top + self.ph - self.ph * y / self.y_max


def render(chart: Chart) -> str:
    f = _Frame.of(chart)
    out = [*_header(f), *_bands(f), *_axes(f), *_hlines(f), *_series(f), *_markers(f), "</svg>"]
    return "\n".join(out)


def _header(f: _Frame) -> list[str]:
    w, h, title = f.chart.width, f.chart.height, escape(f.chart.title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        f'role="img" aria-label="{title}" font-family="system-ui, sans-serif" font-size="11">',
        f'<text x="{f.left}" y="16" font-size="13" font-weight="600">{title}</text>',
    ]


def _bands(f: _Frame) -> list[str]:
    """The stages, shaded alternately, each titled with its label."""
    out = []
    for i, (x0, x1, label) in enumerate(f.chart.bands):
        fill = "#f6f8fa" if i % 2 == 0 else "#eaeef2"
        out.append(
            f'<rect x="{f.px(x0):.1f}" y="{f.top}" width="{max(f.px(x1) - f.px(x0), 0):.1f}" height="{f.ph}" fill="{fill}">'
            f"<title>{escape(label)}</title></rect>"
        )
    return out


def _axes(f: _Frame) -> list[str]:
    """Grid lines with the y ticks, the x ticks, the frame and both axis labels."""
    left, top, pw, ph = f.left, f.top, f.pw, f.ph
    out = []
    for i in range(6):
        yv = f.y_max * i / 5
        y = f.py(yv)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#d0d7de" stroke-width="0.5"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt(yv)}</text>')
    for i in range(6):
        xv = f.x_max * i / 5
        out.append(f'<text x="{f.px(xv):.1f}" y="{top + ph + 16}" text-anchor="middle">{fmt(xv)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#57606a"/>')
    out.append(
        f'<text x="{left + pw / 2}" y="{f.chart.height - 6}" text-anchor="middle">{escape(f.chart.x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle">{escape(f.chart.y_label)}</text>'
    )
    return out


def _hlines(f: _Frame) -> list[str]:
    """Limit lines (a gate's p95), dashed red and labelled at the right."""
    out = []
    for value, label in f.chart.hlines:
        y = f.py(value)
        out.append(
            f'<line x1="{f.left}" y1="{y:.1f}" x2="{f.left + f.pw}" y2="{y:.1f}" stroke="#cf222e" stroke-dasharray="6 3"/>'
        )
        out.append(
            f'<text x="{f.left + f.pw - 4}" y="{y - 4:.1f}" text-anchor="end" fill="#cf222e">{escape(label)}</text>'
        )
    return out


def _series(f: _Frame) -> list[str]:
    """Each series as lines (dots where asked, or where a run is a single point), and its legend entry."""
    out = []
    for i, s in enumerate(f.chart.series):
        color = s.color or PALETTE[i % len(PALETTE)]
        for run in _runs(s.points):
            if len(run) == 1 or s.dots:
                for x, y in run:
                    out.append(f'<circle cx="{f.px(x):.1f}" cy="{f.py(y):.1f}" r="3" fill="{color}"/>')
            if len(run) > 1:
                d = " ".join(f"{f.px(x):.1f},{f.py(y):.1f}" for x, y in run)
                dash = ' stroke-dasharray="4 3"' if s.dashed else ""
                out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.6"{dash}/>')
        ly = f.top + 14 + 16 * i
        lx = f.left + f.pw
        out.append(
            f'<line x1="{lx + 12}" y1="{ly - 4}" x2="{lx + 30}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>'
        )
        out.append(f'<text x="{lx + 34}" y="{ly}">{escape(s.label)}</text>')
    return out


def _markers(f: _Frame) -> list[str]:
    """Labelled points (the knee), circled in red."""
    return [
        f'<circle cx="{f.px(x):.1f}" cy="{f.py(y):.1f}" r="6" fill="none" stroke="#cf222e" stroke-width="2"/>'
        f'<text x="{f.px(x) + 9:.1f}" y="{f.py(y) - 8:.1f}" fill="#cf222e" font-weight="600">{escape(label)}</text>'
        for x, y, label in f.chart.markers
    ]


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
