"""`dvcwatch stack`: the sandbox, probers, Prometheus, Alertmanager, Pushgateway and the webhook
listener on loopback, started and stopped as one."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dvcwatch.cli import HelpFormatter

if TYPE_CHECKING:
    from rich.console import Console

    from dvcwatch.stack import Stack, StackSettings

EXAMPLES = """examples:
  dvcwatch stack up                            everything, production intervals (alerts in ~1 min)
  dvcwatch stack up --fast --ward phuong-a     demo timing, plus a ward behind a cuttable link
  dvcwatch stack fault sandbox_portal/scenarios/bad-day.yaml
  dvcwatch stack fault --hang                  the whole portal hangs (DvcPortalDown)
  dvcwatch stack link phuong-a down            the ward's own link is cut (DvcVantageLinkDown)
  dvcwatch stack status                        processes, health, firing alerts, notifications
  dvcwatch stack down
state: <run-dir>/state.json; what the listener received: <run-dir>/listener/alerts.jsonl"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stack",
        help="run the whole monitoring stack on loopback (sandbox, probers, Prometheus, Alertmanager)",
        description=(
            "Start the sandbox portal, a prober per vantage, Prometheus with the generated rules, "
            "Alertmanager, Pushgateway and the webhook listener, each with its own data dir under one "
            "run folder; stop them by their own process ids."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--run-dir", default="runs/stack", help="run folder (default %(default)s)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="start everything", epilog=EXAMPLES, formatter_class=HelpFormatter)
    up.add_argument(
        "--ward",
        action="append",
        default=[],
        metavar="NAME",
        help="add a ward vantage behind its own cuttable link (repeatable)",
    )
    up.add_argument(
        "--fast",
        action="store_true",
        help="demo timing: 1 s scrapes, 2 s probes, 4 s `for:` (never for a real portal)",
    )
    up.add_argument(
        "--slo", metavar="FILE", help="SLO/threshold file for the rules (default alerts/slo.yaml)"
    )
    up.add_argument(
        "--scrape-interval", default="10s", help="Prometheus scrape interval (default %(default)s)"
    )
    up.add_argument(
        "--evaluation-interval", default="10s", help="rule evaluation interval (default %(default)s)"
    )
    up.add_argument(
        "--probe-interval", type=float, default=10.0, help="seconds between probes (default %(default)s)"
    )
    up.add_argument(
        "--probe-timeout", type=float, default=5.0, help="probe timeout, seconds (default %(default)s)"
    )
    up.set_defaults(func=run_up)

    actions.add_parser("down", help="stop everything the run folder's state names").set_defaults(
        func=run_down
    )
    actions.add_parser("status", help="processes, health, firing alerts").set_defaults(func=run_status)

    fault = actions.add_parser(
        "fault",
        help="replace the sandbox's faults (contracts §5)",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    what = fault.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", metavar="FILE", help="faults YAML")
    what.add_argument("--hang", action="store_true", help="every request hangs")
    what.add_argument("--clear", action="store_true", help="no faults")
    fault.set_defaults(func=run_fault)

    link = actions.add_parser("link", help="cut or restore a ward's link")
    link.add_argument("ward")
    link.add_argument("state", choices=["down", "up"])
    link.set_defaults(func=run_link)


def _settings(args: argparse.Namespace) -> StackSettings:
    from pathlib import Path

    from dvcwatch.stack import StackSettings, fast_settings

    slo = Path(args.slo) if args.slo else None
    if slo:
        from alerts.config import load_config

        load_config(slo)  # a bad SLO file is one clear error before anything starts
    if args.fast:
        return fast_settings(Path(args.run_dir), wards=list(args.ward), **({"slo": slo} if slo else {}))
    return StackSettings(
        run_dir=Path(args.run_dir),
        scrape_interval=args.scrape_interval,
        evaluation_interval=args.evaluation_interval,
        probe_interval=args.probe_interval,
        probe_timeout=args.probe_timeout,
        slo=slo,
        wards=list(args.ward),
    )


def run_up(args: argparse.Namespace) -> int:
    from rich.console import Console

    from alerts.config import duration_seconds
    from dvcwatch.errors import ConfigError
    from dvcwatch.stack import Stack

    for flag in ("scrape_interval", "evaluation_interval"):
        try:
            duration_seconds(getattr(args, flag))
        except ValueError as exc:
            raise ConfigError(f"--{flag.replace('_', '-')}: {exc}") from None
    console = Console(highlight=False)
    stack = Stack(_settings(args))
    with console.status("starting") as status:
        stack.up(progress=lambda label: status.update(f"starting {label}"))
    _print_components(console, stack)
    console.print(
        f"\nsandbox admin token: {stack.run_dir / 'sandbox' / 'admin-token'} (mode 600)\n"
        f"notifications: {stack.run_dir / 'listener' / 'alerts.jsonl'}\n"
        f"journeys: dvcwatch shop --target {stack.urls['sandbox']} --pushgateway {stack.urls['pushgateway']}\n"
        f"load: dvcwatch load --profile smoke --host {stack.urls['sandbox']} "
        f"--metrics-port {stack.load_metrics_port}\n"
        f"stop with: dvcwatch stack --run-dir {args.run_dir} down"
    )
    return 0


def _print_components(console: Console, stack: Stack) -> bool:
    from rich.table import Table

    table = Table("component", "pid", "state", "url")
    ok = True
    for row in stack.status():
        state = "[green]up[/]" if row["alive"] and row["healthy"] is not False else "[red]DOWN[/]"
        if row["alive"] and row["healthy"] is False:
            state = "[yellow]unhealthy[/]"
        ok = ok and row["alive"] and row["healthy"] is not False
        table.add_row(row["name"], str(row["pid"]), state, row["url"])
    console.print(table)
    return ok


def run_down(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from dvcwatch.stack import Stack, StackError

    console = Console(highlight=False)
    try:
        stack = Stack.load(Path(args.run_dir))
    except StackError as exc:
        console.print(f"nothing to stop: {exc}")
        return 0
    stopped = stack.down()
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from dvcwatch.stack import Stack

    console = Console(highlight=False)
    stack = Stack.load(Path(args.run_dir))
    ok = _print_components(console, stack)
    try:
        firing = stack.query('ALERTS{alertstate="firing"}')
        names = sorted({r["metric"]["alertname"] for r in firing})
        console.print(f"firing in Prometheus: {', '.join(names) if names else 'none'}")
        held = stack.alerts()
        inhibited = [a for a in held if a["status"]["inhibitedBy"]]
        console.print(f"in Alertmanager: {len(held)} active, {len(inhibited)} inhibited")
    except OSError:
        console.print("[yellow]Prometheus or Alertmanager not answering[/]")
    console.print(f"notifications received: {len(stack.notifications())}")
    return 0 if ok else 1


def run_fault(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from dvcwatch.errors import ConfigError
    from dvcwatch.stack import Stack

    stack = Stack.load(Path(args.run_dir))
    if args.clear:
        faults = []
    elif args.hang:
        faults = [{"kind": "hang"}]
    else:
        from dvcwatch.yamlconfig import read_yaml

        data, _ = read_yaml(args.file)
        if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
            raise ConfigError("expected a mapping with a `faults:` list", path=args.file)
        faults = data["faults"]
    active = stack.set_faults(faults)
    print(yaml.safe_dump(active, allow_unicode=True, sort_keys=False).rstrip())
    return 0


def run_link(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dvcwatch.stack import Stack

    Stack.load(Path(args.run_dir)).cut_link(args.ward, cut=args.state == "down")
    print(f"link {args.ward}: {args.state}")
    return 0
