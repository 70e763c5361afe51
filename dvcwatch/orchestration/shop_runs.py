"""What `dvcwatch shop` does once its options are parsed: one sweep, or a sweep every `--every`.

A `ShopRun` is built from the parsed options (`dvcwatch.commands.shop` checks them first). It starts an
embedded sandbox when no target is given, serves `/metrics` between scheduled sweeps, pushes each sweep to
a Pushgateway, and stops the same way on Ctrl-C, SIGTERM or SIGHUP (a closed terminal or SSH session). It hands back a `ShopOutcome`; the command
turns that into an exit code, as `load` does with `load_runs`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from dvcwatch.core.errors import ConfigError, DvcwatchError
from dvcwatch.core.terminal_text import safe_text

if TYPE_CHECKING:
    from dvcwatch.core.catalog import Catalog
    from dvcwatch.core.profile import Profile
    from playwright_journeys.personas import Persona, Personas
    from playwright_journeys.results import RunResults, ServiceResult
    from playwright_journeys.runner import Sweep

STOP_CODES = {"Ctrl-C": 130, "SIGTERM": 143, "SIGHUP": 129}
STOP_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}


@dataclass(frozen=True)
class ShopOutcome:
    """How a run ended: the last sweep that finished (None if none did), or the signal that stopped it."""

    last: RunResults | None
    stopped_by: str | None = None


@dataclass(frozen=True)
class SweepRecord:
    """One finished sweep, as handed to `ShopRun.after_sweep` callbacks."""

    results: RunResults
    out_dir: Path  # the folder this sweep wrote results.json and scorecard.html into
    number: int  # 1 for the first sweep of this run, 2 for the next scheduled one, ...
    finished_at: float  # Unix time, the same instant the metrics and the Pushgateway carry


@dataclass
class ShopRun:
    """One `dvcwatch shop` invocation, from the parsed and checked options.

    Where to hook in: every sweep that finishes (not a stopped or crashed one) goes through
    `_record_sweep`, after its metrics are updated and pushed; it calls each function in `after_sweep`
    with a `SweepRecord`. Each finished journey goes through `_record_journey` (the console line), which
    calls each function in `after_journey` with the `ServiceResult`. An exception from a callback ends
    the run like any other error of that sweep.
    """

    out: Path
    target: str | None = None
    services: list[str] | None = None
    personas: list[str] = field(default_factory=lambda: ["desktop"])
    parallel: int = 4
    retries: int = 0
    overwrite: bool = False
    fail_on: str = "degraded"
    step_timeout: float | None = None
    shard: tuple[int, int] = (1, 1)
    trace: str = "on-failure"
    vantage: str = "local"
    pushgateway: str | None = None
    every: float | None = None  # seconds between the starts of scheduled sweeps; None: one sweep
    listen: str | None = None
    max_runs: int | None = None
    authorised: bool = False
    catalog_file: str | None = None
    personas_file: str | None = None
    merge: list[str] | None = None  # shard folders to join into `out` instead of running
    record: str | None = None  # --record DIR: each journey's HTTP exchange as a HAR (never production)
    browsers: list[str] | None = None  # --browser: Playwright browser servers instead of a local chromium
    console: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    after_sweep: list[Callable[[SweepRecord], None]] = field(default_factory=list)
    after_journey: list[Callable[[ServiceResult], None]] = field(default_factory=list)

    def execute(self) -> ShopOutcome:
        from dvcwatch.core.catalog import load_catalog
        from playwright_journeys.personas import load_personas

        self._catalog: Catalog = load_catalog(self.catalog_file)
        self._personas_cfg: Personas = load_personas(self.personas_file)
        self._services = (
            [self._catalog.service(s) for s in self.services]
            if self.services
            else list(self._catalog.services)
        )
        self._persona_list: list[Persona] = [self._personas_cfg.get(n) for n in self.personas]
        if self.merge:
            prepare_out(self.out, overwrite=self.overwrite, every=False)
            with self._earlier_kept():
                return ShopOutcome(self._merge())
        return self._with_target()

    @contextmanager
    def _earlier_kept(self) -> Iterator[None]:
        """--overwrite: the earlier results wait aside until this run has done at least as much."""
        from dvcwatch.orchestration.shop_earlier import set_aside

        earlier = set_aside(self.out) if self.overwrite and self.every is None else None
        if earlier is not None:
            self.console.print(  # soft_wrap: a folder's path is never cut in two, so it can be copied
                f"earlier results moved to {escape(str(earlier.folder))} until this sweep finishes as many journeys",
                soft_wrap=True,
            )
        try:
            yield
        finally:
            if earlier is not None:
                self.console.print(escape(earlier.settle(self.out)), soft_wrap=True)

    def _with_target(self) -> ShopOutcome:
        from dvcwatch.core.profile import load_profile
        from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox

        sandbox = None
        with Stopper() as stopper:
            self._stopper = stopper
            try:
                if self.target:
                    profile = load_profile(self.target)
                    check_authorisation(profile, self.authorised)
                    if self.record:
                        from playwright_journeys.record import refuse_production

                        refuse_production(profile)
                prepare_out(self.out, overwrite=self.overwrite, every=self.every is not None)
                if self.record:
                    from playwright_journeys.record import check_directory

                    check_directory(Path(self.record))
                with self._earlier_kept():
                    if not self.target:
                        self.console.print("starting an embedded healthy sandbox portal …")
                        sandbox = EmbeddedSandbox()
                        sandbox.start()
                        profile = load_profile(sandbox.url)
                    return self._sweeps(profile)
            except Interrupted:
                self.console.print(f"stopped by {stopper.why}")
                return ShopOutcome(None, stopper.why)
            finally:
                stopper.may_raise = False
                if sandbox is not None:
                    sandbox.stop()

    def _sweeps(self, profile: Profile) -> ShopOutcome:
        """The first sweep, then (with --every) one per period until --max-runs or a signal."""
        from playwright_journeys import metrics

        latest = metrics.LatestRun()
        server = metrics.serve(self.listen, latest) if self.listen else None
        if server is not None:
            self.console.print(f"serving metrics on http://{escape(self.listen or '')}/metrics")
        last: RunResults | None = None
        n = 0
        try:
            while True:
                n += 1
                run_out = run_dir(self.out) if self.every is not None else self.out
                started = time.monotonic()
                result = self._guarded_sweep(profile, run_out, n)
                if self._stopper.why is not None:
                    return ShopOutcome(last, self._stopper.why)
                if result is not None:
                    now = time.time()
                    # a stop signal now is noted, not raised: an exception raised from the handler in the
                    # middle of the history's transaction could be lost on the way out of the database
                    # driver, and the loop would then sleep on with the signal spent (seen under load)
                    self._stopper.may_raise = False
                    try:
                        latest.update(result, now)
                        self._push(result, now)
                        self._record_sweep(SweepRecord(result, run_out, n, now))
                    finally:
                        self._stopper.may_raise = True
                    last = result
                    if self._stopper.why is not None:
                        return ShopOutcome(last, self._stopper.why)
                if self.every is None or (self.max_runs is not None and n >= self.max_runs):
                    return ShopOutcome(last)
                time.sleep(max(0.0, self.every - (time.monotonic() - started)))  # a signal raises Interrupted
        finally:
            if server is not None:
                server.shutdown()

    def _guarded_sweep(self, profile: Profile, run_out: Path, n: int) -> RunResults | None:
        """One sweep; with --every, a sweep that crashes is reported and the schedule goes on."""
        try:
            return self._one_sweep(profile, run_out)
        except Exception as exc:
            if self.every is None or (n == 1 and isinstance(exc, DvcwatchError)):
                raise  # a configuration error shows in the first sweep: one line, exit 2
            # a monitoring loop outlives one bad sweep; the stale metrics then raise the alarm
            self.console.print(
                f"[red]sweep {n} failed:[/] {escape(safe_text(f'{type(exc).__name__}: {exc}'))}"
            )
            return None

    def _push(self, result: RunResults, now: float) -> None:
        if not self.pushgateway:
            return
        from playwright_journeys import metrics

        try:
            metrics.push(result, self.pushgateway, now)
        except OSError as exc:
            self.console.print(f"[yellow]could not push to {escape(self.pushgateway)}: {escape(str(exc))}[/]")

    def _record_sweep(self, record: SweepRecord) -> None:
        """The place a finished sweep is handed on (history, follow-ups): see the class docstring."""
        for callback in self.after_sweep:
            callback(record)

    def _record_journey(self, result: ServiceResult) -> None:
        for callback in self.after_journey:
            callback(result)

    def _sweep_config(self, profile: Profile, out: Path) -> Any:
        from dvcwatch.core.target import resolve_target
        from playwright_journeys.browser_pool import parse_browsers
        from playwright_journeys.runner import SweepConfig

        return SweepConfig(
            profile=profile,
            catalog=self._catalog,
            services=self._services,
            personas=self._persona_list,
            out_dir=out,
            parallel=self.parallel,
            retries=self.retries,
            vantage=self.vantage,
            step_timeout=self.step_timeout,
            shard=self.shard,
            trace=self.trace,
            authorised=self.authorised,
            profile_dir=resolve_target(self.target).profile_dir if self.target else Path("."),
            record_dir=Path(self.record) if self.record else None,
            browsers=parse_browsers(self.browsers or []),
        )

    def _one_sweep(self, profile: Profile, out: Path) -> RunResults:
        import asyncio

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from playwright_journeys.report import print_summary, write_report
        from playwright_journeys.runner import Sweep, plan

        out.mkdir(parents=True, exist_ok=True)
        with Progress(
            TextColumn("[bold]shop[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        ) as progress:
            cfg = self._sweep_config(profile, out)
            task = progress.add_task(escape(profile.base_url), total=len(plan(cfg)))

            def done(r: ServiceResult) -> None:
                progress.console.print(journey_line(r))
                progress.advance(task)
                self._record_journey(r)

            cfg.on_result = done
            cfg.on_progress = lambda so_far: write_report(so_far, self._catalog, self._personas_cfg, out)
            sweep = Sweep(cfg)
            self._stopper.sweep = sweep
            if self._stopper.why is not None:  # a signal came while this sweep was being set up
                sweep.stop_soon(self._stopper.why)
            try:
                result = asyncio.run(sweep.run())
            finally:
                self._stopper.sweep = None
        write_report(result, self._catalog, self._personas_cfg, out)
        print_summary(result, out, self.console)
        return result

    def _merge(self) -> RunResults:
        from playwright_journeys.report import print_summary, write_report
        from playwright_journeys.results import merge, read_results

        parts = [(read_results(d), Path(d) if Path(d).is_dir() else Path(d).parent) for d in self.merge or []]
        result = merge(parts, self.out)
        write_report(result, self._catalog, self._personas_cfg, self.out)
        print_summary(result, self.out, self.console)
        return result


def check_authorisation(profile: Profile, authorised: bool) -> None:
    """Submitting or paying on production needs two keys: the profile's and the operator's."""
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


def prepare_out(out: Path, *, overwrite: bool, every: bool) -> None:
    """Refuse, before anything starts, a folder that would lose earlier results or cannot be written.

    With --every each sweep gets its own run-<time> folder beside the earlier ones, so a restarted
    monitor may reuse its --out."""
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


def run_dir(out: Path) -> Path:
    """A fresh folder for one scheduled sweep, never one that already exists."""
    base = out / time.strftime("run-%Y%m%d-%H%M%S")
    d, n = base, 1
    while d.exists():
        n += 1
        d = base.with_name(f"{base.name}-{n}")
    return d


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM while no sweep runs (the sandbox starting, the wait for the next sweep):
    raised from the signal handler so every `finally` runs and the embedded sandbox goes too."""


class Stopper:
    """Ctrl-C, SIGTERM and SIGHUP stop `shop` the same way: a running sweep is told to stop (it cancels its
    journeys, closes its browser and returns what finished, marked partial); between sweeps the
    handler raises `Interrupted`. Either way the outcome says which signal it was."""

    def __init__(self) -> None:
        self.why: str | None = None
        self.sweep: Sweep | None = None  # the running sweep, told to stop
        self.may_raise = True  # False while cleaning up: a second signal must not cut that short
        self._old: dict[int, Any] = {}

    def __enter__(self) -> Stopper:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_NAMES:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.why is not None:
            return  # already stopping; the cleanups are bounded
        self.why = STOP_NAMES.get(signum, signal.Signals(signum).name)
        if self.sweep is not None:
            self.sweep.stop_soon(self.why)
        elif self.may_raise:
            raise Interrupted(self.why)


MARKS = {
    "pass": "[green]✔[/]",
    "degraded": "[yellow]~[/]",
    "fail": "[red]✘[/]",
    "error": "[dim]?[/]",
    "not_filed": "[blue]◐[/]",
}


def journey_line(r: ServiceResult) -> str:
    """One finished journey as a console line; every text from the portal or a profile is escaped,
    so `[/]` in a banner cannot break the sweep and `[link=…]` cannot become a hyperlink, and loses its
    terminal escapes (an OSC 52 in a banner must not write the operator's clipboard)."""
    where = f" at {r.failed_step}: {r.failure.message}" if r.failure else ""
    if r.checked_to and not r.failure:
        where = f" works up to filing, not filed: production (checked to {r.checked_to})"
    extra = f" ({', '.join(r.degraded_reasons)})" if r.degraded_reasons else ""
    text = f"{r.service:<28} {r.persona:<8} {r.duration_seconds:5.1f} s{extra}{where}"
    return f"{MARKS[r.verdict]} {escape(safe_text(text))}"
