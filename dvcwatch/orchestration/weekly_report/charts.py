"""Two small inline SVG charts: no script, no charting library to keep, and they print sharply on A4.

Every label is escaped here, since the SVG goes into the page as markup."""

from __future__ import annotations

from markupsafe import Markup, escape

from dvcwatch.orchestration.weekly_report.figures import ServiceLine

ROW = 22
LABEL_W = 210
PLOT_W = 330
THIS_COLOUR = "#1f6feb"
LAST_COLOUR = "#b8c2cc"
AIM_COLOUR = "#c62828"


def _frame(height: int, body: list[str], title: str) -> Markup:
    width = LABEL_W + PLOT_W + 60
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _label(y: float, text: str) -> str:
    short = text if len(text) <= 34 else text[:33] + "…"
    return f'<text x="{LABEL_W - 6}" y="{y}" text-anchor="end" font-size="11">{escape(short)}</text>'


def share_chart(lines: list[ServiceLine], lang: str) -> Markup:
    """Per service: last period's share of journeys that worked (grey) above this period's (blue)."""
    height = ROW * len(lines) + 30
    body = []
    for pct in (0, 50, 100):
        x = LABEL_W + PLOT_W * pct / 100
        body.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{height - 18}" stroke="#e1e4e8"/>')
        body.append(f'<text x="{x}" y="{height - 4}" text-anchor="middle" font-size="10">{pct} %</text>')
    for i, s in enumerate(lines):
        y = i * ROW + 4
        body.append(_label(y + 12, s.name_vi if lang == "vi" else s.name_en))
        for j, (p, colour) in enumerate(((s.last, LAST_COLOUR), (s.this, THIS_COLOUR))):
            if p.share is None:
                continue
            w = PLOT_W * p.share
            body.append(
                f'<rect x="{LABEL_W}" y="{y + j * 8}" width="{w:.1f}" height="7" fill="{colour}">'
                f"<title>{escape(s.service)}: {100 * p.share:.0f} %</title></rect>"
            )
        if s.this.share is not None:
            body.append(
                f'<text x="{LABEL_W + PLOT_W * s.this.share + 4:.1f}" y="{y + 15}" font-size="10">'
                f"{100 * s.this.share:.0f} %</text>"
            )
    title = "Tỉ lệ lượt làm được" if lang == "vi" else "Share of journeys that worked"
    return _frame(height, body, title)


def time_chart(lines: list[ServiceLine], aim_seconds: float, lang: str) -> Markup:
    """Per service: this period's median login→submit time, with the 5-minute aim as a red line."""
    timed = [s for s in lines if s.this.median_submit_seconds is not None]
    height = ROW * len(timed) + 30
    top = max([aim_seconds * 1.2] + [s.this.median_submit_seconds or 0 for s in timed])
    body = []
    aim_x = LABEL_W + PLOT_W * aim_seconds / top
    body.append(
        f'<line x1="{aim_x:.1f}" y1="0" x2="{aim_x:.1f}" y2="{height - 18}" stroke="{AIM_COLOUR}" '
        'stroke-dasharray="4 3"/>'
    )
    aim_text = "mục tiêu 5 phút" if lang == "vi" else "5-minute aim"
    body.append(
        f'<text x="{aim_x:.1f}" y="{height - 4}" text-anchor="middle" font-size="10" '
        f'fill="{AIM_COLOUR}">{escape(aim_text)}</text>'
    )
    for i, s in enumerate(timed):
        y = i * ROW + 4
        t = s.this.median_submit_seconds or 0.0
        body.append(_label(y + 12, s.name_vi if lang == "vi" else s.name_en))
        colour = AIM_COLOUR if t > aim_seconds else THIS_COLOUR
        body.append(
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{PLOT_W * t / top:.1f}" height="10" fill="{colour}"/>'
        )
        body.append(
            f'<text x="{LABEL_W + PLOT_W * t / top + 4:.1f}" y="{y + 12}" font-size="10">{t:.0f} s</text>'
        )
    title = "Thời gian đăng nhập → nộp (trung vị)" if lang == "vi" else "Login → submit time (median)"
    return _frame(height, body, title)
