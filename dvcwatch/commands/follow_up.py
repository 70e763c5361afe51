"""`dvcwatch follow-up`: look the filed dossiers up on the portal's tracking page until their result."""

from __future__ import annotations

import argparse

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch follow-up --target tinh-x.yaml                       one look at each open dossier
  dvcwatch follow-up --target tinh-x.yaml --every 1h --max-passes 24
exit codes: 0 looked (the standing is printed; lateness is a finding, not a failure),
            2 usage or configuration error, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (a closed terminal) (each
            look is saved as it is made)"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "follow-up",
        help="follow filed dossiers to their result through the portal's public tracking page",
        description=(
            "Every dossier a journey filed is kept in the history with its promised date (ngày hẹn trả). "
            "This looks each open one up on the portal's tracking page, politely (the profile's "
            "politeness limits), records when the result came, and says per service how many were on "
            "time, late, still open past their date, or answered only at the office."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--target", required=True, metavar="PROFILE|URL", help="the portal's profile (or sandbox URL)"
    )
    p.add_argument(
        "--history",
        metavar="URL",
        help="the history: a file, sqlite:///path or postgresql://… (default $DVCWATCH_HISTORY or "
        "results/history.sqlite3)",
    )
    p.add_argument(
        "--every", metavar="DURATION", help="look again every 30s, 15m, 1h … until all are settled"
    )
    p.add_argument(
        "--max-passes", type=int, default=1, metavar="N", help="with --every: at most N passes (default 1)"
    )
    p.add_argument("--timeout", type=float, default=20.0, metavar="S", help="seconds per page (default 20)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from rich.console import Console
    from rich.markup import escape

    from dvcwatch.commands.report import _history
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.core.interrupts import Signalled, until_signalled
    from dvcwatch.core.profile import load_profile
    from dvcwatch.core.terminal_text import safe_text
    from dvcwatch.core.yamlconfig import parse_duration
    from dvcwatch.orchestration.follow_up import FollowUp

    if args.max_passes < 1:
        raise ConfigError("--max-passes must be at least 1")
    if args.timeout <= 0:
        raise ConfigError("--timeout must be positive")
    interval = 0.0
    if args.every:
        try:
            interval = float(parse_duration(args.every))
        except ValueError:
            interval = 0.0
        if interval <= 0:
            raise ConfigError(f"--every {args.every!r}: give a duration like 30s, 15m or 1h")
    elif args.max_passes != 1:
        raise ConfigError("--max-passes repeats passes --every so often: give --every too")
    follow = FollowUp(_history(args, must_exist=True), load_profile(args.target), timeout_s=args.timeout)
    console = Console(stderr=True, highlight=False)

    try:
        passes = asyncio.run(until_signalled(follow.until_settled(interval, args.max_passes)))
    except Signalled as exc:
        console.print(f"{exc} (the looks made so far are saved)")
        return exc.exit_code
    for problem in passes[-1].problems if passes else []:
        console.print(f"[yellow]{escape(safe_text(problem[0]))}[/]: {escape(safe_text(problem[1]))}")
    looked = sum(p.looked for p in passes)
    console.print(
        f"{looked} looks in {len(passes)} pass(es); {passes[-1].still_open if passes else 0} still open"
    )
    for service, c in sorted(follow.standing().items()):
        late = f" (worst by {c['late_by_max_s'] / 3600:.1f} h)" if c["late"] else ""
        console.print(
            f"{escape(service):<32} on time {c['on_time']} · late {c['late']}{late} · "
            f"open past due {c['open_past_due']} · open {c['open']} · at the office {c['at_office']}"
        )
    return 0
