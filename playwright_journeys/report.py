"""Write a sweep's files (results.json, scorecard.html) and its short terminal summary."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dvcwatch.core.catalog.models import Catalog
from dvcwatch.core.terminal_text import safe_text
from playwright_journeys.personas import Personas
from playwright_journeys.results import RunResults, write_results
from playwright_journeys.scorecard import write_scorecard


def write_report(run: RunResults, catalog: Catalog, personas: Personas, out_dir: Path) -> None:
    write_results(run, out_dir)
    write_scorecard(run, catalog, personas, out_dir)


def print_summary(run: RunResults, out_dir: Path, console: Console) -> None:
    """Portal text (messages, what the citizen saw) is escaped: it is shown, never read as markup, and
    its terminal escapes and control characters are removed (`safe_text`)."""
    s = run.summary
    bad = [r for r in run.results if r.verdict not in ("pass", "not_filed")]
    if bad:
        t = Table("service", "persona", "verdict", "step", "what the citizen met")
        for r in bad:
            what = r.failure.message if r.failure else ", ".join(r.degraded_reasons)
            if r.failure and r.failure.seen:
                what += f" — “{r.failure.seen[:80]}”"
            cells = (r.service, r.persona, r.verdict, r.failed_step or "", what)
            t.add_row(*(escape(safe_text(x)) for x in cells))
        console.print(t)
    tried = s.total - s.not_filed
    not_filed = f" · {s.not_filed} work up to filing, not filed (production)" if s.not_filed else ""
    console.print(
        f"[bold]{s.passed}/{tried}[/] journeys work end to end ({100 * s.share_end_to_end:.0f} %){not_filed} · "
        f"{s.degraded} degraded · {s.failed} failed · {s.error} not checked · {run.duration_seconds:.1f} s"
    )
    if run.partial:
        console.print(
            f"[yellow]partial:[/] {escape(safe_text(run.partial_reason or 'the sweep did not finish'))}"
        )
    console.print(
        f"scorecard: {escape(str(out_dir / 'scorecard.html'))}   data: {escape(str(out_dir / 'results.json'))}"
    )
