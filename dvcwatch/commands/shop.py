"""`dvcwatch shop`: play the citizen ("vào vai người dân") on every service and say which really work.

This module parses and checks the options and maps the outcome to an exit code; the sweeps themselves,
`--every`, the metrics server and the Pushgateway push are `dvcwatch.orchestration.shop_runs.ShopRun`."""

from __future__ import annotations

import argparse
import math
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dvcwatch.commands.cli import HelpFormatter

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
  dvcwatch shop --browser ws://10.0.0.5:3000/SECRET#capacity=6 --browser ws://10.0.0.6:3000/SECRET
                                                  chromium on two browser servers (docs/journeys.md)
exit codes: 0 every journey passed, 1 one failed or was degraded (--fail-on fail: only failures),
            2 usage or configuration error, 130 stopped by Ctrl-C, 143 stopped by SIGTERM,
            129 stopped by SIGHUP (a stopped sweep keeps the journeys that finished, marked partial: true)
--overwrite moves the earlier results to OUT/earlier-<time>/ first, and removes them only once this
sweep has finished at least as many journeys"""

SHARD_RE = re.compile(r"^(\d+)/(\d+)$")
STEP_TIMEOUT_MAX = 3600.0  # an answer awaited for an hour is no answer (nan and inf are refused too)


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
    _add_what_to_try(p)
    _add_results_and_limits(p)
    _add_shards_and_schedule(p)
    _add_production_and_files(p)
    p.set_defaults(func=run)


def _add_what_to_try(p: argparse.ArgumentParser) -> None:
    """Which services, personas, how many at once, retries."""
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
        "--browser",
        metavar="WS_URL|@FILE",
        action="append",
        help="run the journeys on this Playwright browser server (playwright launch-server, run-server, "
        "browserless ...) instead of a chromium here; repeatable; ws://HOST:PORT/PATH#capacity=N caps its "
        "contexts at once (default: --parallel shared evenly); @FILE reads one endpoint a line, keeping a "
        "secret path out of `ps`",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=0,
        metavar="N",
        help="rerun a failed journey up to N times; a later pass is reported as flaky",
    )


def _add_results_and_limits(p: argparse.ArgumentParser) -> None:
    """Where results go, what fails the run, how long a step may wait."""
    p.add_argument("--out", metavar="DIR", help="output folder (default results/shop-<timestamp>/)")
    p.add_argument(
        "--history",
        metavar="URL",
        help="record the journeys here: a file, sqlite:///path, or postgresql://user@host:port/db shared "
        "by several runners (password from PGPASSFILE; default $DVCWATCH_HISTORY, else history.sqlite3 "
        "beside --out)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results in an --out folder that already holds some (default: refuse); the "
        "earlier ones wait in OUT/earlier-<time>/ until this sweep finishes as many journeys",
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


def _add_shards_and_schedule(p: argparse.ArgumentParser) -> None:
    """Shards and merging, traces, and the monitoring loop (--every, metrics, Pushgateway)."""
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
    p.add_argument(
        "--every",
        metavar="DURATION",
        help="repeat the sweep every 15m, 1h ... (at least 1m, at most a year; "
        f"${EVERY_MIN_ENV} lowers the minimum for a lab)",
    )
    p.add_argument("--listen", metavar="ADDR", help="with --every: serve /metrics on host:port")
    p.add_argument("--max-runs", type=int, metavar="N", help="with --every: stop after N sweeps")


def _add_production_and_files(p: argparse.ArgumentParser) -> None:
    """Production's second key, other catalog or personas files, recording."""
    p.add_argument(
        "--i-have-authorisation",
        dest="authorised",
        action="store_true",
        help="production only, with allow_submit: true in the profile: really submit and pay",
    )
    p.add_argument("--catalog", metavar="PATH", help="a catalog YAML other than the built-in one")
    p.add_argument(
        "--record",
        metavar="DIR",
        help="keep each journey's HTTP exchange with the portal as a HAR for `dvcwatch flows compile` "
        "(sandbox and staging only; password and OTP replaced by references)",
    )
    p.add_argument("--personas-file", metavar="PATH", help="a personas YAML other than the built-in one")


EVERY_MIN_SECONDS = 60.0  # a sweep every minute at most: it already takes tens of seconds
EVERY_MIN_ENV = "DVCWATCH_SHOP_MIN_EVERY"  # a lab's own minimum (a test's back-to-back sweeps)
EVERY_MAX_SECONDS = 366 * 86400.0


def _duration_seconds(text: str) -> float | None:
    from dvcwatch.core.yamlconfig import parse_duration

    try:
        seconds = float(parse_duration(text))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def _seconds(text: str) -> float:
    import os

    from dvcwatch.core.errors import ConfigError

    seconds = _duration_seconds(text)
    if seconds is None or seconds <= 0:
        raise ConfigError(f"--every {text!r}: give a duration like 30s, 15m or 1h")
    floor_text = os.environ.get(EVERY_MIN_ENV, "").strip()
    floor = _duration_seconds(floor_text) if floor_text else EVERY_MIN_SECONDS
    if floor is None or floor <= 0:
        raise ConfigError(f"${EVERY_MIN_ENV} {floor_text!r}: give a duration like 1s or 1m")
    if seconds < floor:
        raise ConfigError(f"--every {text!r}: at least {floor_text or '1m'} between the starts of two sweeps")
    if seconds > EVERY_MAX_SECONDS:
        raise ConfigError(f"--every {text!r}: at most a year")
    return seconds


def _check_args(args: argparse.Namespace) -> tuple[tuple[int, int], float | None]:
    from dvcwatch.core.errors import ConfigError

    if args.parallel < 1:
        raise ConfigError("--parallel must be at least 1")
    if args.retries < 0:
        raise ConfigError("--retries cannot be negative")
    if args.step_timeout is not None and not 0 < args.step_timeout <= STEP_TIMEOUT_MAX:
        raise ConfigError(
            f"--step-timeout {args.step_timeout}: give seconds, more than 0 and at most {STEP_TIMEOUT_MAX:.0f}"
        )
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
    if args.browser:
        from playwright_journeys.browser_pool import parse_browsers

        if args.merge:
            raise ConfigError("--merge only joins finished shards; it runs no browser (--browser)")
        parse_browsers(args.browser)
    if args.merge and (args.every or args.shard):
        raise ConfigError("--merge only joins finished shards; it does not run sweeps")
    if args.record and (args.every or args.merge):
        raise ConfigError("--record keeps one sweep's journeys: not with --every or --merge")
    return shard, every


def _default_out() -> Path:
    return Path("results") / time.strftime("shop-%Y%m%d-%H%M%S")


def run(args: argparse.Namespace) -> int:
    from dvcwatch.orchestration.follow_up import sweep_hooks
    from dvcwatch.orchestration.shop_runs import STOP_CODES, ShopRun

    shard, every = _check_args(args)
    out = Path(args.out) if args.out else _default_out()
    if not args.merge:
        from dvcwatch.core.history_store import refuse_foreign
        from dvcwatch.orchestration.follow_up import history_path_for

        refuse_foreign(history_path_for(out, args.history))  # before a sweep that could not be recorded there
    outcome = ShopRun(
        out=out,
        target=args.target,
        services=args.service,
        personas=args.persona or ["desktop"],
        parallel=args.parallel,
        retries=args.retries,
        overwrite=args.overwrite,
        fail_on=args.fail_on,
        step_timeout=args.step_timeout,
        shard=shard,
        trace=args.trace,
        vantage=args.vantage,
        pushgateway=args.pushgateway,
        every=every,
        listen=args.listen,
        max_runs=args.max_runs,
        authorised=args.authorised,
        catalog_file=args.catalog,
        personas_file=args.personas_file,
        merge=args.merge,
        after_sweep=sweep_hooks(args.target, every, args.history),
        record=args.record,
        browsers=args.browser,
    ).execute()
    if outcome.stopped_by is not None:
        return STOP_CODES.get(outcome.stopped_by, 130)
    return exit_code(outcome.last, args.fail_on) if outcome.last is not None else 0


def exit_code(run: RunResults, fail_on: str) -> int:
    bad = {"fail", "error"} if fail_on == "fail" else {"fail", "error", "degraded"}
    return 1 if any(r.verdict in bad for r in run.results) else 0
