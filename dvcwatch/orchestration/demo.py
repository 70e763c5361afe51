"""`dvcwatch demo`: the whole story in one command, on the embedded sandbox.

A newcomer should see, in a few minutes, what each instrument is for: the monitoring stack comes up,
a bad day is staged through the sandbox's admin API (the same interface a real fault campaign uses),
the mystery shopper sweeps all 25 services twice (journey alerts need two runs in a row), the portal
freezes until the on-call is paged, and a capacity ramp runs into a congested back end. The summary is
built from what the instruments found (results.json, report.json, the webhook listener), never from
what was injected; the injected faults are only used to say whether the two agree.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from dvcwatch.core.waiting import poll_until
from dvcwatch.core.yamlconfig import load_model
from dvcwatch.orchestration.subcommand_process import TIMED_OUT, run_dvcwatch

SCENARIOS = Path(__file__).with_name("scenarios")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Phase(Strict):
    faults: list[dict[str, Any]]
    max_seconds: float = 60


class Congestion(Strict):
    faults: list[dict[str, Any]]
    load_profile: str


class Sweep(Strict):
    parallel: int = 4
    step_timeout_seconds: float = 10
    persona: str = "desktop"


class DemoScenario(Strict):
    version: Literal[1]
    broken: list[dict[str, Any]]
    freeze: Phase
    congestion: Congestion
    sweep: Sweep = Sweep()
    alert_wait_seconds: float = 45


def load_scenario(path: Path | None = None) -> tuple[DemoScenario, Path]:
    p = Path(path) if path else SCENARIOS / "demo.yaml"
    return load_model(DemoScenario, p), p


@dataclass
class DemoFindings:
    """What the instruments reported; the summary and the exit code are built from this."""

    out: Path
    healthy: bool
    sweeps: list[dict[str, Any]] = field(default_factory=list)
    load_report: dict[str, Any] | None = None
    load_exit: int | None = None
    freeze_notified_after: float | None = None
    freeze_resolved_after: float | None = None
    notifications: list[dict[str, Any]] = field(default_factory=list)
    prometheus_url: str = ""
    stack_dir: Path | None = None
    kept_running: bool = False
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def last_sweep(self) -> dict[str, Any]:
        return self.sweeps[-1] if self.sweeps else {"results": []}

    def verdicts(self) -> dict[str, dict[str, Any]]:
        return {r["service"]: r for r in self.last_sweep.get("results", [])}

    def alert_names(self, status: str = "firing") -> dict[str, int]:
        seen: dict[str, set[str]] = {}
        for rec in self.notifications:
            for a in rec.get("alerts", []):
                if a.get("status") != status:
                    continue
                labels = a.get("labels", {})
                name = labels.get("alertname", "?")
                key = ",".join(f"{k}={labels.get(k, '')}" for k in ("service", "vantage", "persona"))
                seen.setdefault(name, set()).add(key)
        return {k: len(v) for k, v in sorted(seen.items())}


def expected_from(broken: list[dict[str, Any]]) -> dict[str, tuple[str, str | None]]:
    """service → (verdict, step) that the injected faults should produce."""
    from dvcwatch.orchestration.rehearse import IMPLIED_STEP, PlacedFault

    out: dict[str, tuple[str, str | None]] = {}
    for f in broken:
        if not f.get("service"):
            continue
        placed = PlacedFault(f["service"], f["kind"], f.get("step") or IMPLIED_STEP.get(f["kind"]), {})
        verdict = placed.expected_verdict
        out[placed.service] = (verdict, placed.step if verdict == "fail" else None)
    return out


def compare(expected: dict[str, tuple[str, str | None]], verdicts: dict[str, dict[str, Any]]) -> list[str]:
    """Disagreements between the injected faults and what the sweep found."""
    problems = []
    for svc, r in verdicts.items():
        want_verdict, want_step = expected.get(svc, ("pass", None))
        if r["verdict"] != want_verdict:
            problems.append(f"{svc}: expected {want_verdict}, the sweep said {r['verdict']}")
        elif want_step and r.get("failed_step") != want_step:
            problems.append(f"{svc}: expected a failure at {want_step}, found at {r.get('failed_step')}")
    missing = set(expected) - set(verdicts)
    problems += [f"{svc}: no result" for svc in sorted(missing)]
    return problems


class Demo:
    def __init__(
        self,
        out: Path,
        healthy: bool = False,
        scenario: Path | None = None,
        keep_running: bool = False,
        say: Callable[[str], None] = print,
    ) -> None:
        self.scenario, self.scenario_path = load_scenario(scenario)
        self.out = out.resolve()
        self.healthy = healthy
        self.keep_running = keep_running
        self.say = say
        self.findings = DemoFindings(out=self.out, healthy=healthy)
        self.stack: Any = None  # with keep_running, the stack left up for `stay_up`

    # -------------------------------------------------------------- helpers

    def _dvcwatch(self, args: list[str], log: Path, timeout: float) -> int:
        code = run_dvcwatch(args, log, timeout)
        if code == TIMED_OUT:
            self.findings.problems.append(f"`dvcwatch {args[0]}` did not finish within {timeout:.0f} s")
        return code

    def _wait_for_alert(self, stack: Any, name: str, status: str, since: float, limit: float) -> float | None:
        def notified() -> tuple[float] | None:  # a tuple, so a delay of 0.0 still counts as arrived
            for rec in stack.notifications():
                if rec.get("received_at", 0) < since:
                    continue
                for a in rec.get("alerts", []):
                    if a.get("labels", {}).get("alertname") == name and a.get("status") == status:
                        return (rec["received_at"] - since,)
            return None

        found = poll_until(notified, limit, 0.5)
        return found[0] if found else None

    # -------------------------------------------------------------- phases

    def sweep(self, stack: Any, n: int) -> None:
        s = self.scenario.sweep
        out = self.out / f"shop-{n}"
        code = self._dvcwatch(
            [
                "shop",
                "--target",
                stack.urls["sandbox"],
                "--out",
                str(out),
                "--overwrite",  # the demo's own folder: a rerun into the same --out replaces it
                "--parallel",
                str(s.parallel),
                "--step-timeout",
                str(s.step_timeout_seconds),
                "--persona",
                s.persona,
                "--pushgateway",
                stack.urls["pushgateway"],
                "--vantage",
                "trung-tam",
            ],
            self.out / "logs" / f"shop-{n}.log",
            timeout=300,
        )
        results = out / "results.json"
        if code == 2 or not results.exists():
            self.findings.problems.append(
                f"sweep {n} did not produce results (exit {code}); see logs/shop-{n}.log"
            )
            return
        data = json.loads(results.read_text(encoding="utf-8"))
        data["_dir"] = str(out)
        self.findings.sweeps.append(data)

    def freeze(self, stack: Any, broken: list[dict[str, Any]]) -> None:
        started = time.time()
        stack.set_faults([*broken, *self.scenario.freeze.faults])
        self.findings.freeze_notified_after = self._wait_for_alert(
            stack, "DvcPortalDown", "firing", started, self.scenario.freeze.max_seconds
        )
        stack.set_faults(broken)
        cleared = time.time()
        resolved = self._wait_for_alert(stack, "DvcPortalDown", "resolved", cleared, 30)
        self.findings.freeze_resolved_after = resolved
        if self.findings.freeze_notified_after is None:
            self.findings.problems.append(
                "the portal-down alert did not reach the listener during the freeze"
            )

    def capacity(self, stack: Any, broken: list[dict[str, Any]]) -> None:
        faults = broken if self.healthy else [*broken, *self.scenario.congestion.faults]
        stack.set_faults(faults)
        profile = self.scenario.congestion.load_profile
        if not Path(profile).is_absolute():
            profile = str(self.scenario_path.parent / profile)
        out = self.out / "load"
        code = self._dvcwatch(
            [
                "load",
                "--profile",
                profile,
                "--host",
                stack.urls["sandbox"],
                "--out",
                str(out),
                "--overwrite",  # the demo's own folder: a rerun into the same --out replaces it
                "--metrics-port",
                str(stack.load_metrics_port),
            ],
            self.out / "logs" / "load.log",
            timeout=240,
        )
        self.findings.load_exit = code
        report = out / "report.json"
        if report.exists():
            self.findings.load_report = json.loads(report.read_text(encoding="utf-8"))
        else:
            self.findings.problems.append(
                f"the capacity ramp wrote no report (exit {code}); see logs/load.log"
            )
        stack.set_faults(broken)

    # -------------------------------------------------------------- run

    def run(self, progress: Callable[[str], None] = lambda _: None) -> DemoFindings:
        from dvcwatch.orchestration.stack import Stack, fast_settings

        t0 = time.monotonic()
        self.out.mkdir(parents=True, exist_ok=True)
        stack = Stack(fast_settings(self.out / "stack"))
        self.findings.stack_dir = stack.run_dir
        broken = [] if self.healthy else self.scenario.broken
        finished = False
        try:
            progress("starting the monitoring stack (sandbox, prober, Prometheus, Alertmanager, Pushgateway)")
            stack.up()
            self.findings.prometheus_url = stack.urls["prometheus"]
            stack.set_faults(broken)
            progress("mystery shopper, sweep 1 of 2: all 25 services")
            self.sweep(stack, 1)
            if not self.healthy:
                progress("the portal freezes: waiting for the on-call to be paged")
                self.freeze(stack, broken)
            progress("mystery shopper, sweep 2 of 2")
            self.sweep(stack, 2)
            progress("capacity ramp" + ("" if self.healthy else " into a congested back end"))
            self.capacity(stack, broken)
            progress("letting the alerts fire")
            self._settle_alerts(stack)
            self.findings.notifications = stack.notifications()
            finished = True
        finally:
            # the components die with this process (parent-death signal), so "kept running" only
            # holds while `stay_up` supervises them here; anything that went wrong takes them down
            if self.keep_running and finished:
                self.findings.kept_running = True
                self.stack = stack
            else:
                stack.down()
        self.findings.seconds = time.monotonic() - t0
        self._check()
        (self.out / "demo.json").write_text(json.dumps(self.summary_dict(), ensure_ascii=False, indent=2))
        return self.findings

    def stay_up(
        self, say: Callable[[str], None] = print, ready: Callable[[], None] | None = None
    ) -> list[str]:
        """With --keep-running: supervise the stack in the foreground until Ctrl-C, SIGTERM or SIGHUP,
        then take it down; a SIGHUP (a closed terminal, not the normal end) is raised again as
        StackStopped once the stack is down, so the demo exits 129. Must run in the thread that started it (the parent-death signal is per thread),
        which is why the demo stays in the foreground instead of exiting and leaving it behind.
        `ready()` runs once a Ctrl-C would be handled (tell the person then). Returns the components
        stopped."""
        if self.stack is None:
            return []
        stack, self.stack = self.stack, None
        try:
            stopped = stack.run_supervised(say, start=ready)
        finally:
            self.findings.kept_running = False
        if stack.stopped_by == signal.SIGHUP:
            from dvcwatch.orchestration.stack import StackStopped

            raise StackStopped(signal.SIGHUP)
        return stopped

    def _settle_alerts(self, stack: Any) -> None:
        """Bad day: wait (bounded) until the journey alerts named by the sweep have been notified.
        Healthy: wait the same time and expect nothing to arrive."""
        want: set[str] = set()
        if not self.healthy:
            for r in self.findings.verdicts().values():
                if r["verdict"] == "fail":
                    want.add("DvcJourneyFailing")
                if r.get("level_promised") == "full" and r.get("level_delivered") == "partial":
                    want.add("DvcServiceLevelShortfall")

        def settled() -> bool:
            firing = {
                a.get("labels", {}).get("alertname")
                for rec in stack.notifications()
                for a in rec.get("alerts", [])
                if a.get("status") == "firing"
            }
            return bool(want and want <= firing) or bool(self.healthy and firing)

        poll_until(settled, self.scenario.alert_wait_seconds, 1)

    def _check(self) -> None:
        f = self.findings
        if len(f.sweeps) < 2:
            return
        expected = {} if self.healthy else expected_from(self.scenario.broken)
        f.problems += compare(expected, f.verdicts())
        if self.healthy:
            fired = f.alert_names("firing")
            if fired:
                f.problems.append(f"alerts fired on a healthy portal: {', '.join(fired)}")

    def summary_dict(self) -> dict[str, Any]:
        f = self.findings
        results = f.last_sweep.get("results", [])
        return {
            "mode": "healthy" if f.healthy else "bad-day",
            "seconds": round(f.seconds, 1),
            "services": len(results),
            "working_end_to_end": sum(1 for r in results if r["verdict"] == "pass"),
            "verdicts": {r["service"]: r["verdict"] for r in results},
            "failed_steps": {r["service"]: r.get("failed_step") for r in results if r["verdict"] == "fail"},
            "level_shortfall": [
                r["service"]
                for r in results
                if r.get("level_promised") == "full" and r.get("level_delivered") == "partial"
            ],
            "freeze_notified_after_seconds": f.freeze_notified_after,
            "knee": (f.load_report or {}).get("knee"),
            "alerts_fired": f.alert_names("firing"),
            "scorecard": str(Path(f.last_sweep.get("_dir", f.out)) / "scorecard.html"),
            "capacity_report": str(f.out / "load" / "report.html"),
            "alerts_received": str((f.stack_dir or f.out) / "listener" / "alerts.jsonl"),
            "prometheus": f.prometheus_url,
            "problems": f.problems,
        }


def default_out() -> Path:
    return Path("results") / f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
