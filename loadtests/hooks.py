"""The run's listeners on Locust's events: options, metrics, the timeline, the gates and the report.

Installed once by the locustfile. On the master (or a single local process) they sample the
timeline, serve the live metrics and, on `quitting`, judge the gates, write the report and set the
process exit code (0 every gate held, 1 one broke), the way Locust documents gating a run. Workers
only read the profile (think times, surge weights) and report their counts promptly.

The host allow-list is checked here, where the load starts, so a plain `locust -f
loadtests/locustfile.py --host URL` is held to the same rule as `dvcwatch load`: at `init` for the
--host given, and again at `test_start` for a host typed into the web UI (a refused test starts no
citizen). SIGINT, SIGTERM and SIGHUP all stop a run cleanly with a partial report naming the signal:
Locust handles SIGTERM only once a shape has finished, which for a soak is 90 minutes away, and
SIGHUP not at all (the process would die with no report).
"""

from __future__ import annotations

import logging
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from dvcwatch.core.errors import ConfigError, DvcwatchError
from loadtests.context import RunContext, add_options, run_context
from loadtests.flow_files import MESSAGE as FLOWS_MESSAGE
from loadtests.flow_files import other_origins, parse_shipped, report_facts
from loadtests.safety import refuse_unless_allowed

log = logging.getLogger("dvcwatch.load")

# How often workers send their counts to the master (Locust's default is 3 s); 1 s keeps the
# master's timeline as fine-grained in distributed mode as in a local run.
WORKER_REPORT_SECONDS = 1.0
# A worker quits when its master has been silent this long (Locust's default is 60 s): a master
# killed outright tells its workers nothing, and they must not go on loading the portal.
MASTER_SILENCE_SECONDS = 10
FLOWS_WANTED = "dvc_flows_wanted"  # worker → master: send me the flows (FLOWS_MESSAGE answers)


def install() -> None:
    events.init_command_line_parser.add_listener(add_options)
    events.init.add_listener(on_init)
    events.test_start.add_listener(on_test_start)
    events.test_stop.add_listener(on_test_stop)
    events.quitting.add_listener(on_quitting)


def on_init(environment: Any, **_: Any) -> None:
    try:
        ctx = RunContext.from_options(environment.parsed_options)
    except DvcwatchError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    environment.dvc_run = ctx
    environment.dvc_refused = None
    hosts = [environment.host] if environment.host else []
    try:
        for url in [*hosts, *other_origins(ctx.flows.flows, ctx.target.origins)]:
            refuse_unless_allowed(url, *_allow_options(environment.parsed_options))
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    if ctx.flows:
        ctx.extra.update(report_facts(ctx.flows, ctx.target.origins))
    ctx.state["options"] = _option_key(environment.parsed_options)
    _configure_users(environment, ctx)
    if isinstance(environment.runner, WorkerRunner):
        import locust.runners

        locust.runners.WORKER_REPORT_INTERVAL = WORKER_REPORT_SECONDS
        locust.runners.MASTER_HEARTBEAT_TIMEOUT = MASTER_SILENCE_SECONDS
        _ask_master_for_flows(environment)
        return
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(FLOWS_WANTED, _send_flows)
    _stop_cleanly_on_signals(environment)
    # imported now, not while a stop signal waits for the report
    import loadtests.report
    import loadtests.report_html  # noqa: F401

    ctx.state["workers"] = {}
    ctx.state["metrics"] = None
    environment.events.worker_report.add_listener(
        lambda client_id, data, **_: count_worker_report(ctx, client_id, data)
    )
    if ctx.metrics_port:
        from loadtests.metrics import LoadMetrics

        metrics = LoadMetrics(ctx.profile.name)
        try:
            metrics.serve(ctx.metrics_host, ctx.metrics_port)
            ctx.state["metrics"] = metrics
        except OSError as exc:
            sys.stderr.write(
                f"error: --metrics-port {ctx.metrics_port}: cannot listen on {ctx.metrics_host}: "
                f"{exc.strerror or exc}\n"
            )
            sys.exit(2)


def _allow_options(opts: Any) -> tuple[str | None, bool]:
    return getattr(opts, "dvc_allowlist", "") or None, bool(getattr(opts, "dvc_i_have_authorisation", False))


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What `dvcwatch load` passes on to the master (loadtests.interrupt.SIGNALS), and what a terminal,
CI or systemd sends to a plain `locust -f loadtests/locustfile.py`."""


def _stop_cleanly_on_signals(environment: Any) -> None:
    """SIGINT, SIGTERM and SIGHUP all become Locust's Ctrl-C path (users stopped on every worker, the
    quitting event, our partial report), with the signal named as the stop reason. Later signals
    are ignored while that path runs: it is short, and a second one would cut the report short.
    (When `dvcwatch load` itself is killed, its children get SIGTERM as their parent-death signal.)"""

    def handler(signum: int, _frame: Any) -> None:
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        ctx = run_context(environment)  # the web UI may have replaced it since init
        if ctx.stop_reason is None:
            ctx.stop_reason = f"interrupted by {signal.Signals(signum).name}"
        raise KeyboardInterrupt

    for s in STOP_SIGNALS:
        signal.signal(s, handler)


def _ask_master_for_flows(environment: Any) -> None:
    """A worker may run on a machine without the flow files: it asks its master for their text
    (asked, not pushed on connect, so the answer cannot arrive before this handler exists)."""
    runner = environment.runner

    def received(msg: Any, **_: Any) -> None:
        data = msg.data or {}
        if not data.get("texts"):
            return  # the master runs the built-in citizens
        try:
            run_context(environment).flows = parse_shipped(data["texts"], f"master:{data.get('source', '')}")
        except DvcwatchError as exc:
            log.error("the flows from the master do not load here: %s", exc)

    runner.register_message(FLOWS_MESSAGE, received)
    runner.send_message(FLOWS_WANTED, None)


def _send_flows(environment: Any, msg: Any, **_: Any) -> None:
    flows = run_context(environment).flows
    environment.runner.send_message(
        FLOWS_MESSAGE, {"texts": flows.texts, "source": flows.source}, client_id=msg.node_id
    )


def _configure_users(environment: Any, ctx: RunContext) -> None:
    from loadtests.citizens import PortalUser, configure_surge
    from loadtests.flow_user import FlowUser
    from loadtests.shapes.deadline_surge import surge_extra_users

    # A flow run replays recorded flows only; any other runs the built-in citizens. Workers keep every
    # class: the master names the ones to spawn, and a worker learns of the flows only from it.
    every = environment.__dict__.setdefault("dvc_user_classes", list(environment.user_classes))
    if not isinstance(environment.runner, WorkerRunner):
        chosen = [FlowUser] if ctx.flows else [c for c in every if not issubclass(c, FlowUser)]
        environment.user_classes[:] = [c for c in every if c in chosen] or chosen

    for cls in environment.user_classes:
        if issubclass(cls, PortalUser):
            cls.network_timeout = ctx.profile.request_timeout_seconds
            cls.connection_timeout = ctx.profile.request_timeout_seconds
    spec = ctx.profile.shape
    if spec.kind == "deadline_surge":
        configure_surge(
            spec.service, surge_extra_users(spec.users, spec.service, spec.multiplier), spec.users
        )


def refreshed_context(environment: Any) -> RunContext:
    """The web UI lets a user change the --dvc-* options between runs: follow them."""
    ctx = run_context(environment)
    if _option_key(environment.parsed_options) == ctx.state.get("options"):
        return ctx
    try:
        fresh = RunContext.from_options(environment.parsed_options)
    except DvcwatchError as exc:
        log.error("keeping the previous profile: %s", exc)
        return ctx
    fresh.state = ctx.state
    if fresh.flows:
        fresh.extra.update(report_facts(fresh.flows, fresh.target.origins))
    fresh.state["options"] = _option_key(environment.parsed_options)
    environment.dvc_run = fresh
    _configure_users(environment, fresh)
    shape = environment.shape_class
    if shape is not None and hasattr(shape, "plan"):
        shape.plan = None
    return fresh


def _option_key(opts: Any) -> tuple[Any, ...]:
    return tuple(getattr(opts, k, None) for k in sorted(vars(opts)) if k.startswith("dvc_"))


def refused_host(environment: Any) -> bool:
    """Check the host this test runs against (the web UI may have changed it since `init`); a
    refused host is remembered, and citizens refuse to start (`PortalUser.on_start`)."""
    try:
        refuse_unless_allowed(environment.host or "", *_allow_options(environment.parsed_options))
        ctx = run_context(environment)
        for url in other_origins(ctx.flows.flows, ctx.target.origins):
            refuse_unless_allowed(url, *_allow_options(environment.parsed_options))
    except ConfigError as exc:
        environment.dvc_refused = str(exc)
        log.error("%s", exc)
        return True
    environment.dvc_refused = None
    return False


def on_test_start(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        refused_host(environment)
        return
    import gevent

    from loadtests.timeline import Timeline

    ctx = refreshed_context(environment)
    if refused_host(environment):
        import gevent

        gevent.spawn(environment.runner.stop)
        return
    shape = environment.shape_class
    stage_at = getattr(shape, "stage_index_at", lambda t: None)
    old = ctx.state.get("sampler")
    if old is not None:
        old.kill(block=False)
    timeline = Timeline(
        stats=environment.stats,
        step_classes=ctx.gates.step_classes,
        users=lambda: environment.runner.user_count,
        stage_at=stage_at,
    )
    metrics = ctx.state.get("metrics")
    if metrics is not None:
        timeline.listeners.append(
            lambda sample, per_name: metrics.observe(
                sample.users, per_name, timeline.recent_per_name(), timeline.recent_seconds()
            )
        )
    timeline.start()
    ctx.stop_reason = None
    ctx.state["reported"] = False
    ctx.state["timeline"] = timeline
    ctx.state["started_at"] = datetime.now(UTC)
    ctx.state["workers"] = {}
    ctx.state["sampler"] = gevent.spawn(timeline.run, ctx.profile.analysis.sample_seconds)


def on_test_stop(environment: Any, **_: Any) -> None:
    """Workers send their last counts now, before telling the master they stopped, so the master's
    totals include every request the workers saw. A local run, or a master stopped from the web UI
    (which waits for its workers to stop), writes the report now; a headless master stops its
    workers only after this event, and waits for their last counts, so it reports on `quitting`."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner._send_stats()  # Locust otherwise sends the remainder only when it quits
        return
    if isinstance(runner, MasterRunner) and getattr(environment.parsed_options, "headless", False):
        return
    report_once(environment)


def count_worker_report(ctx: RunContext, client_id: str, data: dict[str, Any]) -> None:
    """Each worker's own requests, so the report shows that the workers' counts add up."""
    row = ctx.state["workers"].setdefault(client_id, {"id": client_id, "requests": 0, "failures": 0})
    for entry in data.get("stats", []):
        row["requests"] += entry["num_requests"]
        row["failures"] += entry["num_failures"]


def on_quitting(environment: Any, **_: Any) -> None:
    """A process stopped before its test stopped (Ctrl-C at the wrong moment) still reports."""
    if not isinstance(environment.runner, WorkerRunner):
        report_once(environment)


def report_once(environment: Any) -> None:
    ctx = getattr(environment, "dvc_run", None)
    timeline = ctx.state.get("timeline") if ctx else None
    if ctx is None or timeline is None or ctx.state.get("reported"):
        return
    ctx.state["reported"] = True
    sampler = ctx.state.get("sampler")
    if sampler is not None:
        sampler.kill(block=False)
    timeline.sample()
    environment.process_exit_code = finish(environment, ctx, timeline)


def finish(environment: Any, ctx: RunContext, timeline: Any) -> int:
    from loadtests.report import build, write

    shape = environment.shape_class
    stages = shape.stages() if hasattr(shape, "stages") else []
    runner = environment.runner
    workers = []
    if isinstance(runner, MasterRunner):
        workers = [
            {**row, "index": runner.worker_indexes.get(cid)}
            for cid, row in sorted(ctx.state["workers"].items())
        ]
    reason = ctx.stop_reason or "interrupted before the profile's end"
    report = build(
        ctx,
        host=environment.host or "",
        stats=environment.stats,
        stages=stages,
        samples=timeline.samples,
        started_at=ctx.state.get("started_at") or datetime.now(UTC),
        stop_reason=reason,
        workers=workers,
    )
    _json_path, html_path = write(report, ctx.out_dir)
    verdict = "passed" if report["passed"] else "FAILED: " + ", ".join(report["broken_gates"])
    partial = f" (PARTIAL: {reason})" if report["partial"] else ""
    log.warning("gates %s%s; report %s", verdict, partial, html_path)
    for g in report["gates"]:
        if not g["passed"]:
            log.warning("gate broken: %s measured %s, limit %s", g["name"], g["measured"], g["limit"])
    return 0 if report["passed"] else 1
