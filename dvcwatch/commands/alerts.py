"""`dvcwatch alerts`: generate the Prometheus rules from slo.yaml, test them, and listen for webhooks."""

from __future__ import annotations

import argparse

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch alerts generate                     rewrite alerts/rules/ from alerts/slo.yaml
  dvcwatch alerts generate --check             exit 1 when the committed rules are stale
  dvcwatch alerts generate --slo my-slo.yaml --out /tmp/rules
  dvcwatch alerts test                         promtool check + unit tests of every alert
  dvcwatch alerts listen --port 9099 --out runs/alerts.jsonl"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "alerts",
        help="Prometheus rules from the SLO file, promtool tests, webhook listener",
        description=(
            "Alert rules are generated from one parameter file (alerts/slo.yaml) and committed; "
            "`listen` prints and stores what Alertmanager sends."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    g = actions.add_parser(
        "generate", help="write the rule files from slo.yaml", epilog=EXAMPLES, formatter_class=HelpFormatter
    )
    g.add_argument("--slo", metavar="FILE", help="SLO/threshold file (default alerts/slo.yaml)")
    g.add_argument("--out", metavar="DIR", help="where to write (default alerts/rules/)")
    g.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files differ")
    g.set_defaults(func=run_generate)

    t = actions.add_parser(
        "test", help="promtool check rules + promtool test rules", formatter_class=HelpFormatter
    )
    t.add_argument("--rules", metavar="DIR", help="rule directory (default alerts/rules/)")
    t.set_defaults(func=run_test)

    listen = actions.add_parser(
        "listen",
        help="receive Alertmanager webhooks: print and store JSONL",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    listen.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    listen.add_argument("--port", type=int, default=9099, help="port (0 picks a free one; default 9099)")
    listen.add_argument("--out", metavar="FILE", default="runs/alerts.jsonl", help="JSONL file to append to")
    listen.add_argument("--quiet", action="store_true", help="store only, print nothing per alert")
    listen.set_defaults(func=run_listen)


def run_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from alerts import RULES_DIR
    from alerts.rulegen import alert_names, generate_default, render, write

    console = Console()
    files = generate_default(Path(args.slo) if args.slo else None)
    out = Path(args.out) if args.out else RULES_DIR
    if args.check:
        stale = [n for n, c in files.items() if not (out / n).exists() or (out / n).read_text() != render(c)]
        if stale:
            console.print(f"[red]stale:[/] {', '.join(stale)} — run `dvcwatch alerts generate`")
            return 1
        console.print(f"{len(files)} rule files in {out} are up to date")
        return 0
    for p in write(out, files):
        console.print(f"wrote {p}")
    console.print(f"{len(alert_names(files))} alerts: {', '.join(alert_names(files))}")
    return 0


def run_test(args: argparse.Namespace) -> int:
    import subprocess
    from pathlib import Path

    from alerts import PROMTOOL_TESTS_DIR, RULES_DIR
    from dvcwatch.core.processes import binary

    rules = sorted((Path(args.rules) if args.rules else RULES_DIR).glob("*.yaml"))
    tests = sorted(PROMTOOL_TESTS_DIR.glob("*.yaml"))
    promtool = binary("promtool")
    check = subprocess.run([promtool, "check", "rules", *map(str, rules)], check=False)
    unit = subprocess.run([promtool, "test", "rules", *map(str, tests)], cwd=PROMTOOL_TESTS_DIR, check=False)
    return 0 if check.returncode == 0 and unit.returncode == 0 else 1


def run_listen(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from alerts.webhook import WebhookServer, summarize
    from dvcwatch.core.errors import DvcwatchError

    console = Console(highlight=False, soft_wrap=True)

    def show(record: dict) -> None:
        if not args.quiet:
            for line in summarize(record):
                console.print(line, markup=False)

    try:
        server = WebhookServer(args.host, args.port, Path(args.out), on_record=show)
    except OSError as exc:
        raise DvcwatchError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    console.print(f"listening on {server.url} (POST webhooks to any path), storing to {args.out}")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
