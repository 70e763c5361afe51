"""`dvcwatch report`: the leaders' weekly page from the history; `dvcwatch report import` adds old sweeps."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dvcwatch.commands.cli import HelpFormatter

if TYPE_CHECKING:
    from dvcwatch.core.history_store import HistoryLocation

EXAMPLES = """examples:
  dvcwatch report                                   the last 7 days against the 7 before, into results/report/
  dvcwatch report --since 30d --out bao-cao/thang-11
  dvcwatch report --by portal --out bao-cao/toan-quoc   every portal on one page, each linking its own report
  dvcwatch report import results/shop-*/results.json   add sweeps made before the history existed
exit codes: 0 written, 2 usage or configuration error (no history, a bad results.json)"""


def default_history() -> str:
    """$DVCWATCH_HISTORY (a path or a URL) or results/history.sqlite3."""
    from dvcwatch.orchestration.follow_up import DEFAULT_HISTORY

    return os.environ.get("DVCWATCH_HISTORY") or str(DEFAULT_HISTORY)


HISTORY_HELP = (
    "the history: a file, sqlite:///path, or postgresql://user@host:port/db shared by several runners "
    "(password from PGPASSFILE; default $DVCWATCH_HISTORY or results/history.sqlite3)"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="the leaders' weekly report: this week against last, dossiers on time, what to fix",
        description=(
            "One page a district leader reads in a minute (Vietnamese and English, prints to A4), and its "
            "figures as JSON, from the history `shop` keeps: per service this period against the one "
            "before, dossiers answered on time, the three things to fix first with their evidence."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--since", default="7d", metavar="DURATION", help="the period: 7d (default), 30d, 24h")
    p.add_argument("--out", metavar="DIR", default="results/report", help="where report.html/.json go")
    p.add_argument(
        "--by",
        choices=("portal",),
        help="portal: every portal in the history on one page (portals.html/.json), each row linking "
        "that portal's own weekly report (written under portals/)",
    )
    p.add_argument(
        "--history",
        metavar="URL",
        help=HISTORY_HELP,
    )
    p.add_argument("--timezone", default="Asia/Ho_Chi_Minh", help="the portal's time zone, for due dates")
    p.set_defaults(func=run)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    imp = actions.add_parser("import", help="add old sweeps' results.json to the history")
    imp.add_argument("results", nargs="+", metavar="RESULTS", help="results.json files or their folders")
    # SUPPRESS: a --history given before `import` is kept, not reset to this one's default
    imp.add_argument(
        "--history", metavar="URL", default=argparse.SUPPRESS, help="the history (default as above)"
    )
    imp.set_defaults(func=run_import)


def _history(args: argparse.Namespace, *, must_exist: bool) -> HistoryLocation:
    """--history, else $DVCWATCH_HISTORY, else results/history.sqlite3; a file that must exist is
    checked here (a PostgreSQL history is checked by opening it)."""
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.core.history_store import parse_location

    location = parse_location(args.history or default_history())
    if must_exist and location.path is not None and not location.path.is_file():
        raise ConfigError(
            "no history here yet: run `dvcwatch shop` or `dvcwatch report import`", path=str(location.path)
        )
    return location


SINCE_UNITS = {"d": 86400, "h": 3600, "m": 60}
SINCE_MAX_DAYS = 3660  # ten years: the period and the one before it must stay within the calendar


def _since(text: str):  # type: ignore[no-untyped-def]
    """A period as leaders say it: 7d, 30d, 24h (days, hours or minutes)."""
    import re
    from datetime import timedelta

    from dvcwatch.core.errors import ConfigError

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhm])\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(f"--since {text!r}: give a duration like 7d, 30d or 24h")
    seconds = float(m.group(1)) * SINCE_UNITS[m.group(2)]
    if seconds > SINCE_MAX_DAYS * 86400:
        raise ConfigError(f"--since {text!r}: at most {SINCE_MAX_DAYS}d (ten years)")
    return timedelta(seconds=seconds)


def _check_out(out: Path) -> None:
    """Refuse, before reading anything, an --out that is a file or cannot be written."""
    import os

    from dvcwatch.core.errors import ConfigError

    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".dvcwatch-write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise ConfigError(
            f"--out {out}: a file is there; give a folder for report.html and report.json"
        ) from None
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


def run(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from rich.console import Console
    from rich.markup import escape

    from dvcwatch.core.errors import ConfigError
    from dvcwatch.orchestration.weekly_report.build import build

    since = _since(args.since)
    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"--timezone {args.timezone!r}: not a time zone name (e.g. Asia/Ho_Chi_Minh)"
        ) from None
    history = _history(args, must_exist=True)
    _check_out(Path(args.out))
    if args.by == "portal":
        return _run_by_portal(history, since, Path(args.out), args.timezone)
    fig, html, data = build(history, since, Path(args.out), tz=args.timezone)
    console = Console(stderr=True, highlight=False)
    share = fig.overall_this.share
    console.print(
        f"{fig.overall_this.journeys} journeys this period · worked "
        f"{'—' if share is None else f'{100 * share:.0f} %'} ({fig.overall_trend}) · dossiers on time "
        f"{fig.dossiers.on_time}/{fig.dossiers.filed}, late {fig.dossiers.late}, "
        f"past due {fig.dossiers.open_past_due}"
    )
    console.print(f"report: {escape(str(html))}   data: {escape(str(data))}")
    return 0


def _run_by_portal(history: HistoryLocation, since: timedelta, out: Path, timezone: str) -> int:
    """The roll-up: a line per portal on the terminal, the page and the portals' reports on disk."""
    from rich.console import Console
    from rich.markup import escape

    from dvcwatch.core.terminal_text import safe_text
    from dvcwatch.orchestration.weekly_report.build import build_by_portal

    roll, html, data = build_by_portal(history, since, out, tz=timezone)
    console = Console(stderr=True, highlight=False)
    for p in roll.portals:
        share = p.this.share
        console.print(
            f"{escape(safe_text(p.portal))}: {p.this.journeys} journeys · worked "
            f"{'—' if share is None else f'{100 * share:.0f} %'} ({p.trend}) · dossiers on time "
            f"{p.dossiers.on_time}/{p.dossiers.filed}"
        )
    console.print(f"roll-up: {escape(str(html))}   data: {escape(str(data))}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from dvcwatch.core.history_store import HistoryStore
    from playwright_journeys.history import import_results

    console = Console(stderr=True, highlight=False)
    with HistoryStore.open(_history(args, must_exist=False)) as store:
        for path, journeys, new in import_results(store, args.results):
            console.print(f"{escape(str(path))}: {journeys} journeys, {new} new")
        console.print(f"history: {escape(store.location.shown)}")
    return 0
