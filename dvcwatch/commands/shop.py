"""`dvcwatch shop`: play the citizen ("vào vai người dân") on every service and say which really work."""

from __future__ import annotations

import argparse
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dvcwatch.commands.cli import HelpFormatter

if TYPE_CHECKING:
    from playwright_journeys.results import RunResults
    from playwright_journeys.runner import Sweep

EXAMPLES = """examples:
  dvcwatch shop                                   all 25 services on an embedded healthy sandbox
  dvcwatch shop --target http://127.0.0.1:8480 --service dang-ky-khai-sinh --persona phone
  dvcwatch shop --target my-portal.yaml --parallel 2 --retries 1 --out results/ward-7
  dvcwatch shop --shard 1/2 --out results/a   and   --shard 2/2 --out results/b   on two runners, then
  dvcwatch shop --merge results/a --merge results/b --out results/all
  dvcwatch shop --every 15m --listen 127.0.0.1:9465 --pushgateway http://127.0.0.1:9091
  dvcwatch shop --target tinh-x.yaml              production profile: stops at the last reversible point
exit codes: 0 every journey passed, 1 one failed or was degraded (--fail-on fail: only failures),
            2 usage or configuration error, 130 stopped by Ctrl-C, 143 stopped by SIGTERM
            (a stopped sweep keeps the journeys that finished, marked partial: true)"""

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
        "--overwrite",
        action="store_true",
        help="replace the results in an --out folder that already holds some (default: refuse)",
    )
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
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.core.yamlconfig import parse_duration

    try:
        seconds = float(parse_duration(text))
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ConfigError(f"--every {text!r}: give a duration like 30s, 15m or 1h")
    return seconds


def _check_args(args: argparse.Namespace) -> tuple[tuple[int, int], float | None]:
    from dvcwatch.core.errors import ConfigError

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
    from dvcwatch.core.errors import ConfigError

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


def _prepare_out(out: Path, *, overwrite: bool, every: bool) -> None:
    """Refuse, before anything starts, a folder that would lose earlier results or cannot be written.

    With --every each sweep gets its own run-<time> folder beside the earlier ones, so a restarted
    monitor may reuse its --out."""
    from dvcwatch.core.errors import ConfigError

    try:
        out.mkdir(parents=True, exist_ok=True)
        if not every and not overwrite and any(out.iterdir()):
            raise ConfigError(
                f"--out {out} already holds files (earlier results?); give an empty or new folder, "
                "or --overwrite to replace its results"
            )
        probe = out / f".dvcwatch-write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


def _run_dir(out: Path) -> Path:
    """A fresh folder for one scheduled sweep, never one that already exists."""
    base = out / time.strftime("run-%Y%m%d-%H%M%S")
    d, n = base, 1
    while d.exists():
        n += 1
        d = base.with_name(f"{base.name}-{n}")
    return d


def exit_code(run: RunResults, fail_on: str) -> int:
    bad = {"fail", "error"} if fail_on == "fail" else {"fail", "error", "degraded"}
    return 1 if any(r.verdict in bad for r in run.results) else 0


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM while no sweep runs (the sandbox starting, the wait for the next sweep):
    raised from the signal handler so every `finally` runs and the embedded sandbox goes too."""


class Stopper:
    """Ctrl-C and SIGTERM stop `shop` the same way: a running sweep is told to stop (it cancels its
    journeys, closes its browser and returns what finished, marked partial); between sweeps the
    handler raises `Interrupted`. Either way the exit code says which signal it was."""

    CODES = {"Ctrl-C": 130, "SIGTERM": 143}

    def __init__(self) -> None:
        self.why: str | None = None
        self.sweep: Sweep | None = None  # the running sweep, told to stop
        self.may_raise = True  # False while cleaning up: a second signal must not cut that short
        self._old: dict[int, object] = {}

    @property
    def code(self) -> int:
        return self.CODES.get(self.why or "", 130)

    def __enter__(self) -> Stopper:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]

    def _handle(self, signum: int, _frame: object) -> None:
        if self.why is not None:
            return  # already stopping; the cleanups are bounded
        self.why = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        if self.sweep is not None:
            self.sweep.stop_soon(self.why)
        elif self.may_raise:
            raise Interrupted(self.why)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from dvcwatch.core.catalog import load_catalog
    from playwright_journeys.personas import load_personas

    shard, every = _check_args(args)
    console = Console(stderr=True, highlight=False)
    catalog = load_catalog(args.catalog)
    personas_cfg = load_personas(args.personas_file)
    services = [catalog.service(s) for s in args.service] if args.service else list(catalog.services)
    personas = [personas_cfg.get(n) for n in (args.persona or ["desktop"])]
    out = Path(args.out) if args.out else _default_out()

    if args.merge:
        _prepare_out(out, overwrite=args.overwrite, every=False)
        return _merge(args, catalog, personas_cfg, out, console)

    from dvcwatch.core.profile import load_profile
    from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox

    sandbox = None
    with Stopper() as stopper:
        try:
            if args.target:
                profile = load_profile(args.target)
                check_authorisation(profile, args.authorised)
            _prepare_out(out, overwrite=args.overwrite, every=every is not None)
            if not args.target:
                console.print("starting an embedded healthy sandbox portal …")
                sandbox = EmbeddedSandbox()
                sandbox.start()
                profile = load_profile(sandbox.url)
            return _sweeps(
                args, profile, catalog, personas_cfg, services, personas, shard, every, out, console, stopper
            )
        except Interrupted:
            console.print(f"stopped by {stopper.why}")
            return stopper.code
        finally:
            stopper.may_raise = False
            if sandbox is not None:
                sandbox.stop()


def _sweeps(
    args, profile, catalog, personas_cfg, services, personas, shard, every, out, console, stopper
) -> int:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    from playwright_journeys import metrics

    latest = metrics.LatestRun()
    server = metrics.serve(args.listen, latest) if args.listen else None
    if server is not None:
        console.print(f"serving metrics on http://{escape(args.listen)}/metrics")
    code, n = 0, 0
    try:
        while True:
            n += 1
            run_out = _run_dir(out) if every is not None else out
            started = time.monotonic()
            try:
                result = _one_sweep(
                    args, profile, catalog, personas_cfg, services, personas, shard, run_out, console, stopper
                )
            except Exception as exc:
                from dvcwatch.core.errors import DvcwatchError

                if every is None or (n == 1 and isinstance(exc, DvcwatchError)):
                    raise  # a configuration error shows in the first sweep: one line, exit 2
                # a monitoring loop outlives one bad sweep; the stale metrics then raise the alarm
                console.print(f"[red]sweep {n} failed:[/] {escape(f'{type(exc).__name__}: {exc}')}")
                result = None
            if stopper.why is not None:
                return stopper.code
            if result is not None:
                now = time.time()
                latest.update(result, now)
                if args.pushgateway:
                    try:
                        metrics.push(result, args.pushgateway, now)
                    except OSError as exc:
                        console.print(
                            f"[yellow]could not push to {escape(args.pushgateway)}: {escape(str(exc))}[/]"
                        )
                code = exit_code(result, args.fail_on)
            if every is None or (args.max_runs is not None and n >= args.max_runs):
                return code
            time.sleep(max(0.0, every - (time.monotonic() - started)))  # a signal here raises Interrupted
    finally:
        if server is not None:
            server.shutdown()


def _one_sweep(
    args, profile, catalog, personas_cfg, services, personas, shard, out, console, stopper
) -> RunResults:  # type: ignore[no-untyped-def]
    import asyncio

    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from dvcwatch.core.target import resolve_target
    from playwright_journeys.report import print_summary, write_report
    from playwright_journeys.runner import Sweep, SweepConfig, plan

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
            profile_dir=resolve_target(args.target).profile_dir if args.target else Path("."),
        )
        task = progress.add_task(escape(profile.base_url), total=len(plan(cfg)))

        def done(r) -> None:  # type: ignore[no-untyped-def]
            progress.console.print(journey_line(r))
            progress.advance(task)

        cfg.on_result = done
        cfg.on_progress = lambda so_far: write_report(so_far, catalog, personas_cfg, out)
        sweep = Sweep(cfg)
        stopper.sweep = sweep
        if stopper.why is not None:  # a signal came while this sweep was being set up
            sweep.stop_soon(stopper.why)
        try:
            result = asyncio.run(sweep.run())
        finally:
            stopper.sweep = None
    write_report(result, catalog, personas_cfg, out)
    print_summary(result, out, console)
    return result


MARKS = {
    "pass": "[green]✔[/]",
    "degraded": "[yellow]~[/]",
    "fail": "[red]✘[/]",
    "error": "[dim]?[/]",
    "not_filed": "[blue]◐[/]",
}


def journey_line(r) -> str:  # type: ignore[no-untyped-def]
    """One finished journey as a console line; every text from the portal or a profile is escaped,
    so `[/]` in a banner cannot break the sweep and `[link=…]` cannot become a hyperlink."""
    from rich.markup import escape

    where = f" at {r.failed_step}: {r.failure.message}" if r.failure else ""
    if r.checked_to and not r.failure:
        where = f" works up to filing, not filed: production (checked to {r.checked_to})"
    extra = f" ({', '.join(r.degraded_reasons)})" if r.degraded_reasons else ""
    text = f"{r.service:<28} {r.persona:<8} {r.duration_seconds:5.1f} s{extra}{where}"
    return f"{MARKS[r.verdict]} {escape(text)}"


def _merge(args, catalog, personas_cfg, out, console) -> int:  # type: ignore[no-untyped-def]
    from playwright_journeys.report import print_summary, write_report
    from playwright_journeys.results import merge, read_results

    parts = [(read_results(d), Path(d) if Path(d).is_dir() else Path(d).parent) for d in args.merge]
    result = merge(parts, out)
    write_report(result, catalog, personas_cfg, out)
    print_summary(result, out, console)
    return exit_code(result, args.fail_on)
