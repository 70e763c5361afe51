"""`dvcwatch probe`: uptime and latency of a portal, from where the prober runs, for Prometheus."""

from __future__ import annotations

import argparse
from pathlib import Path

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch probe --from-catalog dvcwatch/core/profiles/sandbox.yaml --out probes.yaml
  dvcwatch probe --from-catalog http://127.0.0.1:8480 --vantage phuong-vinh-hung
  dvcwatch probe --from-catalog profiles/tinh.yaml --flows flows/ --out probes.yaml   login→form by flows
  dvcwatch probe --config probes.yaml --once              probe everything once; exit 1 on a failure
  dvcwatch probe --config probes.yaml --vantage phuong-vinh-hung --listen 127.0.0.1:9477
  curl '127.0.0.1:9477/probe?target=https://dichvucong.gov.vn&module=http_2xx'
  dvcwatch probe --config probes.yaml --listen 0.0.0.0:9477 --web.config.file web.yml   TLS + basic auth
reload: kill -HUP <pid>, POST /-/reload, or just save the file (an invalid file is rejected)"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "probe",
        help="probe the portal continuously and export the results to Prometheus",
        description=(
            "Probe portal pages, a login→form recorded flow (or the JSON API) on a schedule, and export "
            "success, latency by phase, status, content and TLS expiry on /metrics, labelled with the "
            "vantage point the prober runs at."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", metavar="FILE", help="probe config (YAML); see docs/probes.md")
    src.add_argument(
        "--from-catalog",
        metavar="PROFILE",
        help="print the standard probe set for a portal (a profile file or a base URL)",
    )
    p.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:9477", help="default %(default)s")
    p.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="FILE",
        help="TLS and basic auth for /metrics and /probe, in the Prometheus exporter-toolkit format "
        "(docs/probes.md); needed to listen on an address other machines can reach",
    )
    p.add_argument(
        "--allow-insecure-listen",
        action="store_true",
        help="listen on a non-loopback address without --web.config.file: anyone who reaches it can "
        "read /metrics and make the prober send requests through /probe",
    )
    p.add_argument("--vantage", metavar="NAME", help="where this prober runs (overrides the config)")
    p.add_argument(
        "--once", action="store_true", help="probe every target once, print a table, exit 1 on failure"
    )
    p.add_argument(
        "--duration", metavar="SECONDS", type=float, help="stop after this long (default: run until stopped)"
    )
    p.add_argument(
        "--out", metavar="FILE", help="with --from-catalog: write the config here instead of printing it"
    )
    p.add_argument(
        "--flows",
        metavar="DIR",
        help="with --from-catalog: recorded flows (dvcwatch shop --record DIR); one login→form `flow` "
        "probe per service recorded there",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every failed probe")
    p.set_defaults(func=run)


def parse_listen(value: str) -> tuple[str, int]:
    from dvcwatch.core.errors import ConfigError

    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--listen {value!r}: expected HOST:PORT such as 127.0.0.1:9477")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    from dvcwatch.core.errors import ConfigError

    if args.out and not args.from_catalog:
        raise ConfigError("--out goes with --from-catalog (it writes the generated config)")
    if args.flows and not args.from_catalog:
        raise ConfigError("--flows goes with --from-catalog (it generates a flow probe per recorded service)")
    if (args.web_config_file or args.allow_insecure_listen) and (args.once or args.from_catalog):
        raise ConfigError(
            "--web.config.file and --allow-insecure-listen go with a listening prober, not --once"
        )
    if args.from_catalog:
        return _generate(args)
    if args.once:
        return _once(args)
    return _serve(args)


def _generate(args: argparse.Namespace) -> int:
    import sys

    from dvcwatch.core.errors import ConfigError
    from dvcwatch.core.flows import load_flows
    from dvcwatch.core.profile import load_profile
    from dvcwatch.core.target import resolve_target
    from probes.config import load_config_text
    from probes.generate import UNSEEN, plan, relative_to, to_yaml

    if args.out:
        _check_out(Path(args.out))
    profile = load_profile(args.from_catalog)
    flows = load_flows(args.flows) if args.flows else None
    # files are named relative to the written config, so the set can be committed and checked out elsewhere
    out_dir = Path(args.out).resolve().parent if args.out else None
    resolved = resolve_target(args.from_catalog)
    profile_path = relative_to(resolved.path, out_dir) if resolved.path is not None else None
    flows_dir = relative_to(args.flows, out_dir) if args.flows else None
    generated = plan(
        profile,
        vantage=args.vantage or "default",
        profile_path=profile_path,
        flows=flows,
        flows_dir=flows_dir,
    )
    text = to_yaml(generated.config, profile, generated)
    load_config_text(text, "<generated>", secrets=False)  # what we print must load
    if generated.unmapped:
        print(
            f"warning: no probe for {len(generated.unmapped)} service(s) the profile's services: does not map "
            f"to a code: {', '.join(generated.unmapped)}",
            file=sys.stderr,
        )
    for selector in generated.unseen:
        print(f"warning: {UNSEEN.format(selector)}", file=sys.stderr)
    if args.out:
        from dvcwatch.core.atomic import write_text

        try:
            write_text(Path(args.out), text)  # a running prober reloading it sees the old file or the new
        except OSError as exc:
            raise ConfigError(f"--out {args.out}: cannot write it: {exc.strerror or exc}") from None
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def _check_out(out: Path) -> None:
    """Refuse an --out that cannot be a file before the profile is read, so nothing is half done."""
    from dvcwatch.core.errors import ConfigError

    if out.is_dir():
        raise ConfigError(f"--out {out}: is a directory; give the file to write, e.g. {out / 'probes.yaml'}")
    if out.parent.exists() and not out.parent.is_dir():
        raise ConfigError(f"--out {out}: {out.parent} is not a directory")


def _once(args: argparse.Namespace) -> int:
    import asyncio

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from probes.config import load_config
    from probes.one_round import probe_all
    from probes.reload import with_vantage

    config = with_vantage(load_config(args.config), args.vantage)
    console = Console()
    with Progress(console=console, transient=True, disable=len(config.targets) < 10) as progress:
        task = progress.add_task("probing", total=len(config.targets))
        results = asyncio.run(probe_all(config, lambda _r: progress.advance(task)))
    table = Table(title=f"{len(results)} targets from {config.vantage}")
    for col in ("target", "service", "kind", "result", "status", "seconds"):
        table.add_column(col)
    table.add_column("why", overflow="fold")
    for r in results:
        obs = r.observation
        table.add_row(
            r.target.name,
            r.target.service,
            r.target.kind,
            "[green]ok[/]" if obs.success else "[bold red]FAIL[/]",
            str(obs.status_code or "-"),
            f"{r.phases['total']:.3f}",
            obs.failure,
        )
    console.print(table)
    failed = sum(not r.success for r in results)
    console.print(f"{len(results) - failed} ok, {failed} failed")
    return 1 if failed else 0


def _serve(args: argparse.Namespace) -> int:
    import logging

    from dvcwatch.core.errors import ConfigError
    from probes import eventloop
    from probes.prober import Prober
    from probes.webconfig import is_loopback, load_web_config

    host, port = parse_listen(args.listen)
    web_config, ssl_context = load_web_config(args.web_config_file) if args.web_config_file else (None, None)
    if not is_loopback(host) and web_config is None and not args.allow_insecure_listen:
        raise ConfigError(
            f"--listen {args.listen}: other machines can reach that address; give --web.config.file "
            "(TLS and basic auth, as Prometheus exporters take them) or --allow-insecure-listen"
        )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("dvcwatch.probes").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    prober = Prober(
        args.config,
        host=host,
        port=port,
        vantage=args.vantage,
        web_config=web_config,
        ssl_context=ssl_context,
    )
    try:
        eventloop.run(prober.run(duration=args.duration, ready=_announce))
    except OSError as exc:
        from dvcwatch.core.errors import DvcwatchError

        raise DvcwatchError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
    return 0


def _announce(url: str) -> None:
    print(f"dvcwatch prober on {url}/metrics", flush=True)
