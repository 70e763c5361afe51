"""`dvcwatch shop`: play the citizen ("vào vai người dân") on every service and say which really work."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dvcwatch.cli import HelpFormatter

if TYPE_CHECKING:
    from playwright_journeys.results import RunResults

EXAMPLES = """examples:
  dvcwatch shop                                   all 25 services on an embedded healthy sandbox
  dvcwatch shop --target http://127.0.0.1:8480 --service dang-ky-khai-sinh --persona phone
  dvcwatch shop --target my-portal.yaml --parallel 2 --retries 1 --out results/ward-7
  dvcwatch shop --shard 1/2 --out results/a   and   --shard 2/2 --out results/b   on two runners, then
  dvcwatch shop --merge results/a --merge results/b --out results/all
  dvcwatch shop --every 15m --listen 127.0.0.1:9465 --pushgateway http://127.0.0.1:9091
  dvcwatch shop --target tinh-x.yaml              production profile: stops at the last reversible point
exit codes: 0 every journey passed, 1 one failed or was degraded (--fail-on fail: only failures),
            2 usage or configuration error"""

SHARD_RE = re.compile(r"^(\d+)/(\d+)$")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "shop",
        help="mystery-shopper journeys: a browser tries each service end to end",
        description=(
            "A browser plays a citizen and tries each of the 25 services end to end (log in, OTP, find "
            "the service, e-form, documents, fee, submit, track, result). Writes results.json and a "
            "scorecard.html a district leader reads at a glance."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--target",
        metavar="PROFILE|URL",
        help="a target profile YAML, or a sandbox base URL; default: start an embedded healthy sandbox",
    )
    p.add_argument("--service", metavar="ID", action="append", help="only this service (repeatable)")
    p.add_argument(
        "--persona",
        metavar="NAME",
        action="append",
        help="desktop, phone, slow-3g (repeatable; default desktop)",
    )
    p.add_argument(
        "--parallel", type=int, default=4, metavar="N", help="browser contexts at once (default 4)"
    )
    p.add_argument(
        "--retries",
        type=int,
        default=0,
        metavar="N",
        help="rerun a failed journey up to N times; a later pass is reported as flaky",
    )
    p.add_argument("--out", metavar="DIR", help="output folder (default results/shop-<timestamp>/)")
    p.add_argument(
        "--fail-on",
        choices=["degraded", "fail"],
        default="degraded",
        help="exit 1 on degraded or worse (default), or only on failures",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        metavar="S",
        help="seconds to wait for each answer of the portal; a step may take three of them (default: the profile's, 20)",
    )
    p.add_argument("--shard", metavar="K/N", help="run only shard K of N of the sweep (merge with --merge)")
    p.add_argument(
        "--merge",
        metavar="DIR",
        action="append",
        help="merge the results of shards into --out instead of running (repeatable)",
    )
    p.add_argument(
        "--trace",
        choices=["on-failure", "off"],
        default="on-failure",
        help="keep a Playwright trace of failed journeys (default on-failure)",
    )
    p.add_argument("--vantage", default="local", metavar="NAME", help="where this runs from (metric label)")
    p.add_argument("--pushgateway", metavar="URL", help="push dvc_journey_* metrics to this Pushgateway")
    p.add_argument("--every", metavar="DURATION", help="repeat the sweep every 30s, 15m, 1h ...")
    p.add_argument("--listen", metavar="ADDR", help="with --every: serve /metrics on host:port")
    p.add_argument("--max-runs", type=int, metavar="N", help="with --every: stop after N sweeps")
    p.add_argument(
        "--i-have-authorisation",
        dest="authorised",
        action="store_true",
        help="production only, with allow_submit: true in the profile: really submit and pay",
    )
    p.add_argument("--catalog", metavar="PATH", help="a catalog YAML other than the built-in one")
    p.add_argument("--personas-file", metavar="PATH", help="a personas YAML other than the built-in one")
    p.set_defaults(func=run)


def _seconds(text: str) -> float:
    from dvcwatch.errors import ConfigError
    from dvcwatch.yamlconfig import parse_duration

    try:
        seconds = float(parse_duration(text))
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ConfigError(f"--every {text!r}: give a duration like 30s, 15m or 1h")
    return seconds


def _check_args(args: argparse.Namespace) -> tuple[tuple[int, int], float | None]:
    from dvcwatch.errors import ConfigError

    if args.parallel < 1:
        raise ConfigError("--parallel must be at least 1")
    if args.retries < 0:
        raise ConfigError("--retries cannot be negative")
    if args.step_timeout is not None and args.step_timeout <= 0:
        raise ConfigError("--step-timeout must be positive")
    shard = (1, 1)
    if args.shard:
        m = SHARD_RE.match(args.shard)
        if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
            raise ConfigError(f"--shard {args.shard!r}: give K/N with 1 <= K <= N, e.g. 2/3")
        shard = (int(m.group(1)), int(m.group(2)))
    every = _seconds(args.every) if args.every else None
    if args.listen and every is None:
        raise ConfigError("--listen serves metrics between scheduled sweeps: give --every too")
    if args.listen and not re.match(r"^[\w.\-]*:\d+$", args.listen):
        raise ConfigError(f"--listen {args.listen!r}: give host:port, e.g. 127.0.0.1:9465")
    if args.max_runs is not None and args.max_runs < 1:
        raise ConfigError("--max-runs must be at least 1")
    if args.merge and (args.every or args.shard):
        raise ConfigError("--merge only joins finished shards; it does not run sweeps")
    return shard, every


def check_authorisation(profile, authorised: bool) -> None:  # type: ignore[no-untyped-def]
    """Submitting or paying on production needs two keys: the profile's and the operator's."""
    from dvcwatch.errors import ConfigError

    if profile.environment != "production":
        if authorised:
            raise ConfigError(
                f"--i-have-authorisation is for production profiles; {profile.name} is {profile.environment}"
            )
        return
    if authorised and not profile.allow_submit:
        raise ConfigError(
            f"{profile.name} is production and its profile does not say allow_submit: true; "
            "journeys stop at the last reversible point unless both are given"
        )
    if profile.allow_submit and not authorised:
        raise ConfigError(
            f"{profile.name} is production with allow_submit: true: submitting real dossiers and paying "
            "real fees also needs --i-have-authorisation (the operator's written agreement)"
        )


def _default_out() -> Path:
    return Path("results") / time.strftime("shop-%Y%m%d-%H%M%S")


def exit_code(run: RunResults, fail_on: str) -> int:
    bad = {"fail", "error"} if fail_on == "fail" else {"fail", "error", "degraded"}
    return 1 if any(r.verdict in bad for r in run.results) else 0


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from dvcwatch.catalog import load_catalog
    from playwright_journeys.personas import load_personas

    shard, every = _check_args(args)
    console = Console(stderr=True, highlight=False)
    catalog = load_catalog(args.catalog)
    personas_cfg = load_personas(args.personas_file)
    services = [catalog.service(s) for s in args.service] if args.service else list(catalog.services)
    personas = [personas_cfg.get(n) for n in (args.persona or ["desktop"])]
    out = Path(args.out) if args.out else _default_out()

    if args.merge:
        return _merge(args, catalog, personas_cfg, out, console)

    from dvcwatch.embedded import EmbeddedSandbox
    from dvcwatch.profile import load_profile

    sandbox = None
    try:
        if args.target:
            profile = load_profile(args.target)
            check_authorisation(profile, args.authorised)
        else:
            console.print("starting an embedded healthy sandbox portal …")
            sandbox = EmbeddedSandbox().start()
            profile = load_profile(sandbox.url)
        return _sweeps(args, profile, catalog, personas_cfg, services, personas, shard, every, out, console)
    finally:
        if sandbox is not None:
            sandbox.stop()


def _sweeps(args, profile, catalog, personas_cfg, services, personas, shard, every, out, console) -> int:  # type: ignore[no-untyped-def]
    from playwright_journeys import metrics

    latest = metrics.LatestRun()
    server = metrics.serve(args.listen, latest) if args.listen else None
    if server is not None:
        console.print(f"serving metrics on http://{args.listen}/metrics")
    code, n = 0, 0
    try:
        while True:
            n += 1
            run_out = out / time.strftime("run-%Y%m%d-%H%M%S") if every is not None else out
            started = time.monotonic()
            result = _one_sweep(
                args, profile, catalog, personas_cfg, services, personas, shard, run_out, console
            )
            now = time.time()
            latest.update(result, now)
            if args.pushgateway:
                try:
                    metrics.push(result, args.pushgateway, now)
                except OSError as exc:
                    console.print(f"[yellow]could not push to {args.pushgateway}: {exc}[/]")
            code = exit_code(result, args.fail_on)
            if every is None or (args.max_runs is not None and n >= args.max_runs):
                return code
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    finally:
        if server is not None:
            server.shutdown()


def _one_sweep(args, profile, catalog, personas_cfg, services, personas, shard, out, console) -> RunResults:  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from playwright_journeys.report import print_summary, write_report
    from playwright_journeys.runner import SweepConfig, plan, run_sweep

    out.mkdir(parents=True, exist_ok=True)
    with Progress(
        TextColumn("[bold]shop[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        cfg = SweepConfig(
            profile=profile,
            catalog=catalog,
            services=services,
            personas=personas,
            out_dir=out,
            parallel=args.parallel,
            retries=args.retries,
            vantage=args.vantage,
            step_timeout=args.step_timeout,
            shard=shard,
            trace=args.trace,
            authorised=args.authorised,
            profile_dir=Path(args.target).parent
            if args.target and not args.target.startswith("http")
            else Path("."),
        )
        task = progress.add_task(profile.base_url, total=len(plan(cfg)))

        def done(r) -> None:  # type: ignore[no-untyped-def]
            mark = {
                "pass": "[green]✔[/]",
                "degraded": "[yellow]~[/]",
                "fail": "[red]✘[/]",
                "error": "[dim]?[/]",
            }
            where = f" at {r.failed_step}: {r.failure.message}" if r.failure else ""
            if r.checked_to and not r.failure:
                where = f" checked to {r.checked_to} (production: look, don't touch)"
            extra = f" ({', '.join(r.degraded_reasons)})" if r.degraded_reasons else ""
            progress.console.print(
                f"{mark[r.verdict]} {r.service:<28} {r.persona:<8} {r.duration_seconds:5.1f} s{extra}{where}"
            )
            progress.advance(task)

        cfg.on_result = done
        result = run_sweep(cfg)
    write_report(result, catalog, personas_cfg, out)
    print_summary(result, out, console)
    return result


def _merge(args, catalog, personas_cfg, out, console) -> int:  # type: ignore[no-untyped-def]
    from playwright_journeys.report import print_summary, write_report
    from playwright_journeys.results import merge, read_results

    out.mkdir(parents=True, exist_ok=True)
    parts = [(read_results(d), Path(d) if Path(d).is_dir() else Path(d).parent) for d in args.merge]
    result = merge(parts, out)
    write_report(result, catalog, personas_cfg, out)
    print_summary(result, out, console)
    return exit_code(result, args.fail_on)
