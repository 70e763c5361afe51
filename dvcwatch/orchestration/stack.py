"""A complete local monitoring stack on loopback: the sandbox portal, probers, Prometheus with the
generated rules, Alertmanager, Pushgateway and the webhook listener.

It is what `dvcwatch stack up` runs and what the end-to-end test and the detection benchmark measure,
so the three cannot drift apart. Each part has its own data dir under one run folder and is recorded in
`state.json` (pid, URL, log, restarts) as soon as it is up, so `dvcwatch stack down` - a different
process - can find them, and a start that fails half-way can still be cleaned up.

`dvcwatch stack up` stays in the foreground as the stack's supervisor (`Stack.supervise`): every
component is its child and dies with it (PR_SET_PDEATHSIG, even when the supervisor gets SIGKILL), a
component that exits is restarted with backoff and the on-call is told through Alertmanager. `down`
therefore asks the supervisor to stop rather than killing components behind its back.

Wards: a ward's prober reaches the portal through its own cuttable loopback link (dvcwatch.orchestration.link_proxy),
so a one-vantage outage can be staged next to a real portal outage.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from dvcwatch.core import processes
from dvcwatch.core.atomic import write_text
from dvcwatch.core.errors import DvcwatchError
from dvcwatch.core.interrupts import STOP_SIGNALS
from dvcwatch.core.waiting import poll_until
from dvcwatch.orchestration import binaries
from dvcwatch.orchestration.stack_settings import (  # noqa: F401  (re-exported)
    CENTRAL_VANTAGE,
    DEFAULT_RUN_DIR,
    FAST_ALERTMANAGER,
    FAST_FOR_DIVISOR,
    StackError,
    StackSettings,
    fast_settings,
    unusable_run_dir,
)

PROBER_JOB = "dvc-probe"
PUSHGATEWAY_JOB = "dvc-pushgateway"
LOAD_JOB = "dvc-load"

# Sub-folders a new `up` clears: yesterday's TSDB would otherwise answer today's queries.
DATA_DIRS = ("rules", "sandbox", "pushgateway", "listener", "alertmanager", "probers", "links", "prometheus")

# What each component's command line contains: `down` checks it before signalling a recorded pid.
EXPECT = {
    "sandbox": "sandbox_portal",
    "pushgateway": "pushgateway",
    "listener": "dvcwatch",
    "alertmanager": "alertmanager",
    "prometheus": "prometheus",
}


# Restarts: the first at once, then 2, 4, 8, 16 s apart; a component that needs more than RESTART_LIMIT
# restarts within RESTART_WINDOW seconds is left down and pages (it will only crash again).
RESTART_LIMIT = 5
RESTART_WINDOW = 600.0
BACKOFF_MAX = 30.0
RESTARTED_ALERT = "DvcStackComponentRestarted"
FAILED_ALERT = "DvcStackComponentFailed"
ALERT_RETRIES = 20  # undelivered supervisor alerts kept for the next ticks (Alertmanager may be the one down)


class StackStopped(BaseException):
    """Raised from the supervisor's SIGINT, SIGTERM and SIGHUP handler so that `up` and `supervise`
    unwind through `down`; `args[0]` is the signal."""


def _http_json(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10) -> Any:
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read()
    return json.loads(text) if text else None


class Stack:
    """Start with `up()`, stop with `down()`; `Stack.load(run_dir)` re-attaches from state.json."""

    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings()
        self.run_dir = self.settings.run_dir.resolve()
        self.state_path = self.run_dir / "state.json"
        self.components: list[dict[str, Any]] = []
        self.urls: dict[str, str] = {}
        self.sandbox_token: str | None = None
        self.supervisor: dict[str, Any] | None = None  # {"pid", "since"} while a supervisor runs
        self.stopped_by: int | None = None  # the signal that ended `run_supervised`, if one did
        self._managed: dict[str, Any] = {}  # name -> Managed or EmbeddedSandbox, in-process only

    # ------------------------------------------------------------------ state

    @classmethod
    def load(cls, run_dir: Path = DEFAULT_RUN_DIR) -> Stack:
        state_path = Path(run_dir).resolve() / "state.json"
        state = processes.read_json(state_path)
        if state is None:
            raise StackError(f"no stack state at {state_path}; start one with `dvcwatch stack up`")
        settings = StackSettings(**{**state["settings"], "run_dir": Path(state["settings"]["run_dir"])})
        stack = cls(settings)
        stack.components = list(state["components"])
        stack.urls = dict(state["urls"])
        stack.supervisor = state.get("supervisor")
        token_file = stack.run_dir / "sandbox" / "admin-token"
        stack.sandbox_token = token_file.read_text().strip() if token_file.exists() else None
        return stack

    def _save(self) -> None:
        settings = asdict(self.settings)
        settings["run_dir"] = str(self.run_dir)
        settings["slo"] = str(self.settings.slo) if self.settings.slo else None
        state = {
            "started_at": time.time(),
            "settings": settings,
            "components": self.components,
            "urls": self.urls,
            "supervisor": self.supervisor,
        }
        write_text(self.state_path, json.dumps(state, indent=2, ensure_ascii=False))

    def _record(self, name: str, managed: Any, url: str, expect: str, log: Path) -> None:
        pid = managed.pid if hasattr(managed, "pid") and managed.pid else managed.proc.pid
        self.components.append(
            {"name": name, "pid": pid, "url": url, "expect": expect, "log": str(log), "restarts": 0}
        )
        self.urls[name] = url
        self._managed[name] = managed
        self._save()

    def running(self) -> list[dict[str, Any]]:
        return [c for c in self.components if processes.pid_alive(c["pid"])]

    def supervisor_pid(self) -> int | None:
        """The live supervisor's pid (checked against its command line: the state may be old)."""
        pid = (self.supervisor or {}).get("pid")
        if (
            pid
            and processes.pid_alive(pid)
            and any("dvcwatch" in part for part in processes.pid_command(pid))
        ):
            return int(pid)
        return None

    # ------------------------------------------------------------------ up

    def up(self, progress: Any = None) -> Stack:
        """Start everything; on any failure stop what was started and re-raise."""
        self.check_free()
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if not os.access(self.run_dir, os.W_OK | os.X_OK):
                raise PermissionError(13, "not writable")
            for sub in DATA_DIRS:
                shutil.rmtree(self.run_dir / sub, ignore_errors=True)
            self.state_path.unlink(missing_ok=True)
        except OSError as exc:
            raise unusable_run_dir(self.run_dir, exc) from None
        steps = [
            ("rules", self._rules),
            ("sandbox", self._sandbox),
            ("pushgateway", self._pushgateway),
            ("listener", self._listener),
            ("alertmanager", self._alertmanager),
            (f"prober {self.settings.vantage}", lambda: self._prober(self.settings.vantage, None)),
            *[(f"ward {w}", lambda w=w: self._ward(w)) for w in self.settings.wards],
            ("prometheus", self._prometheus),
        ]
        # a port for `dvcwatch load --metrics-port`: scraped whenever a load test runs
        self.urls["load-metrics"] = f"http://127.0.0.1:{processes.free_port()}"
        try:
            for label, step in steps:
                if progress:
                    progress(label)
                step()
        except BaseException:
            self.down()
            raise
        return self

    def check_free(self) -> None:
        """One stack per run folder: refuse to start over one that still runs."""
        try:
            previous = Stack.load(self.run_dir)
        except (StackError, KeyError, TypeError):  # none, or not one we can read: nothing to protect
            previous = None
        if previous and (previous.supervisor_pid() or previous.running()):
            raise StackError(f"a stack is already running from {self.run_dir}; `dvcwatch stack down` first")

    def _rules(self) -> None:
        from alerts.rulegen import generate_default, write

        write(self.run_dir / "rules", generate_default(self.settings.slo))

    def _sandbox(self) -> None:
        from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox

        d = self.run_dir / "sandbox"
        d.mkdir(parents=True, exist_ok=True)
        db = d / "sandbox.sqlite3"
        db.unlink(missing_ok=True)
        sandbox = EmbeddedSandbox(db=db, log_path=d / "sandbox.log", extra_args=self.settings.sandbox_args)
        sandbox.start()
        token_file = d / "admin-token"
        token_file.write_text(sandbox.token + "\n")
        os.chmod(token_file, 0o600)
        self.sandbox_token = sandbox.token
        self._record("sandbox", sandbox, sandbox.url or "", EXPECT["sandbox"], d / "sandbox.log")

    def _pushgateway(self) -> None:
        m = binaries.pushgateway(self.run_dir / "pushgateway").start()
        self._record("pushgateway", m, binaries.url_of(m), EXPECT["pushgateway"], m.log_path)

    def _listener(self) -> None:
        d = self.run_dir / "listener"
        m = binaries.webhook_listener(d / "alerts.jsonl", d).start()
        self._record("listener", m, binaries.url_of(m), EXPECT["listener"], m.log_path)

    def _alertmanager(self) -> None:
        from alerts.amconfig import render

        d = self.run_dir / "alertmanager"
        d.mkdir(parents=True, exist_ok=True)
        config = d / "alertmanager.yml"
        config.write_text(render(self.urls["listener"], timings=self.settings.alertmanager_timings))
        m = binaries.alertmanager(config, d).start()
        self._record("alertmanager", m, binaries.url_of(m), EXPECT["alertmanager"], m.log_path)

    def _probe_config(self, vantage: str, base_url: str, out: Path) -> None:
        """The standard probe set (`dvcwatch probe --from-catalog`) aimed at `base_url` (the portal,
        or a ward's link to it), at the stack's interval; checked as the prober will load it."""
        from dvcwatch.core.profile import load_profile
        from probes.config import load_config_text
        from probes.generate import generate

        config = generate(load_profile(base_url), vantage=vantage)
        timing = {"interval": self.settings.probe_interval, "timeout": self.settings.probe_timeout}
        config["defaults"] = {**config.get("defaults", {}), **timing}
        config["concurrency"] = max(int(config.get("concurrency", 32)), 100)
        for target in config.get("targets", []):
            target.update(timing)
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        load_config_text(text, str(out), secrets=False)
        out.write_text(text)

    def _prober(self, vantage: str, via: str | None) -> None:
        d = self.run_dir / "probers" / vantage
        d.mkdir(parents=True, exist_ok=True)
        config = d / "probes.yaml"
        self._probe_config(vantage, via or self.urls["sandbox"], config)
        m = binaries.prober(config, d, vantage).start(timeout=60)
        self._record(f"prober-{vantage}", m, binaries.url_of(m), "dvcwatch", m.log_path)
        self._write_prober_targets()

    def _ward(self, ward: str) -> None:
        """A prober at `ward` (one of the settings' wards) that reaches the portal through its own
        cuttable link."""
        if f"prober-{ward}" in self.urls:
            raise StackError(f"vantage {ward!r} already has a prober")
        upstream = urllib.parse.urlsplit(self.urls["sandbox"]).netloc
        link = binaries.link_proxy(upstream, self.run_dir / "links" / ward, ward).start()
        self._record(f"link-{ward}", link, binaries.url_of(link), "linkproxy", link.log_path)
        via = "http://" + binaries.url_of(link)[len("tcp://") :]
        self._prober(ward, via)

    def _write_prober_targets(self) -> None:
        """File-based discovery: Prometheus picks up a new ward's prober without a restart."""
        targets = [
            {"targets": [urllib.parse.urlsplit(url).netloc], "labels": {}}
            for name, url in self.urls.items()
            if name.startswith("prober-")
        ]
        path = self.run_dir / "prometheus" / "probers.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(targets, indent=2))

    def prometheus_config(self) -> dict[str, Any]:
        s = self.settings
        am = urllib.parse.urlsplit(self.urls["alertmanager"]).netloc
        pgw = urllib.parse.urlsplit(self.urls["pushgateway"]).netloc
        load = urllib.parse.urlsplit(self.urls["load-metrics"]).netloc
        return {
            "global": {"scrape_interval": s.scrape_interval, "evaluation_interval": s.evaluation_interval},
            "rule_files": [str(self.run_dir / "rules" / "*.yaml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am]}]}]},
            "scrape_configs": [
                {
                    "job_name": PROBER_JOB,
                    "file_sd_configs": [
                        {
                            "files": [str(self.run_dir / "prometheus" / "probers.json")],
                            "refresh_interval": "5s",
                        }
                    ],
                },
                {"job_name": PUSHGATEWAY_JOB, "honor_labels": True, "static_configs": [{"targets": [pgw]}]},
                {"job_name": LOAD_JOB, "static_configs": [{"targets": [load]}]},
            ],
        }

    def _prometheus(self) -> None:
        d = self.run_dir / "prometheus"
        d.mkdir(parents=True, exist_ok=True)
        config = d / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.prometheus_config(), sort_keys=False))
        m = binaries.prometheus(config, d).start(timeout=60)
        self._record("prometheus", m, binaries.url_of(m), EXPECT["prometheus"], m.log_path)

    # ------------------------------------------------------------------ down

    # ------------------------------------------------------------------ supervise

    def run_supervised(
        self, say: Callable[[str], None] = print, start: Callable[[], None] | None = None
    ) -> list[str]:
        """`start()` (e.g. `up` and telling the user where things are), then `supervise` until Ctrl-C,
        SIGTERM or SIGHUP; every way out, a signal during the start included, goes through `down`.
        Returns the names stopped; `stopped_by` says which signal it was. SIGHUP is a closed terminal
        or SSH session: Python's default would end the supervisor at once, and its components only
        by their parent-death signal, in no order and with no `down`.

        For `dvcwatch stack up`, and for anything that wants to leave a stack running for a person
        (`demo --keep-running`): the components die with the process that started them, so keeping
        them means that process stays, supervising."""

        def stopped_by_signal(signum: int, frame: object) -> None:
            raise StackStopped(signum)

        # All handled here, not left to Python's default: a process started with SIGINT ignored (a
        # background job of a script, a test runner's worker) inherits that, and Python keeps it, so
        # "Ctrl-C stops it" would silently not hold.
        previous = {s: signal.signal(s, stopped_by_signal) for s in STOP_SIGNALS}
        self.stopped_by = None
        try:
            if start is not None:
                start()
            self.supervise(say)
        except KeyboardInterrupt:
            self.stopped_by = signal.SIGINT
        except StackStopped as stop:
            self.stopped_by = int(stop.args[0])
        finally:
            # a second Ctrl-C must not cut the cleanup short; a SIGKILL still takes the children along
            for s in previous:
                signal.signal(s, signal.SIG_IGN)
            self.supervisor = None
            try:
                stopped = self.down()
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)
        return stopped

    def supervise(
        self, say: Callable[[str], None] = print, tick: float = 0.5, stop: threading.Event | None = None
    ) -> None:
        """Watch every component until a signal ends this process (Ctrl-C, SIGTERM, SIGHUP raising
        StackStopped) or `stop` is set: one that exits is restarted with backoff, and each restart,
        or giving up, is posted to Alertmanager so the on-call hears of it even if nobody watches
        this terminal.

        Runs in the thread that started the components: the kernel's parent-death signal is tied
        to it, so a restarted component must be started from here too."""
        self.supervisor = {"pid": os.getpid(), "since": time.time()}
        self._save()
        recent: dict[str, list[float]] = {}
        due: dict[str, float] = {}
        undelivered: list[dict[str, Any]] = []
        stop = stop or threading.Event()
        while not stop.is_set():
            now = time.monotonic()
            for comp in self.components:
                name = comp["name"]
                managed = self._managed.get(name)
                if managed is None or comp.get("failed") or _alive(managed):
                    continue
                if name not in due:
                    times = recent[name] = [t for t in recent.get(name, []) if now - t < RESTART_WINDOW]
                    code = managed.proc.returncode if managed.proc else None
                    if len(times) >= RESTART_LIMIT:
                        comp["failed"] = True
                        self._save()
                        undelivered.append(self._supervisor_alert(comp, gave_up=True))
                        say(
                            f"{name} exited (code {code}) {len(times)} times in {RESTART_WINDOW:.0f} s: left down"
                        )
                        continue
                    delay = min(2.0 ** len(times), BACKOFF_MAX) if times else 0.0
                    due[name] = now + delay
                    say(f"{name} (pid {comp['pid']}) exited with code {code}; restarting in {delay:g} s")
                if now >= due[name]:
                    del due[name]
                    recent[name].append(now)
                    try:
                        self._restart(comp, managed)
                    except DvcwatchError as exc:
                        say(f"{name} did not restart: {str(exc).splitlines()[0]}")
                        continue
                    say(f"{name} restarted (pid {comp['pid']}, restart {comp['restarts']})")
                    undelivered.append(self._supervisor_alert(comp, gave_up=False))
            undelivered = [a for a in undelivered if not self._post_alert(a)][-ALERT_RETRIES:]
            stop.wait(tick)

    def _restart(self, comp: dict[str, Any], managed: Any) -> None:
        if hasattr(managed, "token"):  # the embedded sandbox: back on the port the probers use
            managed.stop()
            managed.port = urllib.parse.urlsplit(comp["url"]).port or 0
            managed.start()
        else:
            managed.start(timeout=60)
        comp["pid"] = managed.proc.pid
        comp["restarts"] = int(comp.get("restarts", 0)) + 1
        comp["restarted_at"] = time.time()
        self._save()

    def _supervisor_alert(self, comp: dict[str, Any], gave_up: bool) -> dict[str, Any]:
        """An alert as Alertmanager's API takes it, labelled like the generated rules (owner,
        severity, scope) so the committed routing sends it to the SRE receivers."""
        from alerts.config import load_config

        name, n = comp["name"], comp.get("restarts", 0)
        base = load_config(self.settings.slo).runbook_base_url.rstrip("/")
        alertname = FAILED_ALERT if gave_up else RESTARTED_ALERT
        if gave_up:
            vi = f"Thành phần {name} của ngăn giám sát liên tục dừng; đã ngừng khởi động lại"
            en = f"Stack component {name} keeps exiting; no longer restarted"
        else:
            vi = f"Thành phần {name} của ngăn giám sát đã dừng và được khởi động lại (lần {n})"
            en = f"Stack component {name} exited and was restarted (restart {n})"
        now = dt.datetime.now(dt.UTC)
        return {
            "labels": {
                "alertname": alertname,
                "component": name,
                "severity": "page" if gave_up else "ticket",
                "owner": "sre",
                "scope": "harness",
            },
            "annotations": {
                "summary_vi": vi,
                "summary_en": en,
                "description": f"Supervisor pid {os.getpid()}, run folder {self.run_dir}; log {comp['log']}.",
                "runbook_url": f"{base}/{alertname}.md",
            },
            "startsAt": now.isoformat(),
            "endsAt": (now + dt.timedelta(hours=1 if gave_up else 0.25)).isoformat(),
        }

    def _post_alert(self, alert: dict[str, Any]) -> bool:
        try:
            _http_json("POST", f"{self.urls['alertmanager']}/api/v2/alerts", [alert], timeout=5)
        except (OSError, ValueError, KeyError):
            return False
        return True

    def stop(self, timeout: float = 60.0) -> list[str]:
        """What `dvcwatch stack down` does from another process: ask the supervisor to stop (it stops
        its children, and would restart any stopped behind its back), then stop whatever the state
        still names as running; returns the names that were running."""
        was_running = [c["name"] for c in self.running()]
        pid = self.supervisor_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            if not poll_until(lambda: not processes.pid_alive(pid), timeout, 0.1):
                os.kill(pid, signal.SIGKILL)  # its children get SIGTERM from the kernel
            fresh = processes.read_json(self.state_path)
            if fresh:
                self.components = list(fresh["components"])  # type: ignore[call-overload]
        self.supervisor = None
        self.down()
        return [name for name in was_running if name not in {c["name"] for c in self.running()}]

    # ------------------------------------------------------------------ down

    def down(self) -> list[str]:
        """Stop every recorded component, last started first; returns the names stopped."""
        stopped = []
        for comp in reversed(self.components):
            managed = self._managed.get(comp["name"])
            if managed is not None:
                was_alive = processes.pid_alive(comp["pid"])
                managed.stop()
                if was_alive:
                    stopped.append(comp["name"])
            elif processes.stop_pid(comp["pid"], comp["expect"]):
                stopped.append(comp["name"])
        self._managed.clear()
        if self.state_path.exists():
            self._save()
        return stopped

    # ------------------------------------------------------------------ use

    def status(self) -> list[dict[str, Any]]:
        rows = []
        for comp in self.components:
            alive = processes.pid_alive(comp["pid"])
            healthy = None
            if alive and comp["url"].startswith("http"):
                health = {"sandbox": "/api/v1/health", "listener": "/-/ready"}.get(comp["name"], "/-/ready")
                if comp["name"].startswith("prober-"):
                    health = "/-/healthy"
                try:
                    with urllib.request.urlopen(comp["url"] + health, timeout=3) as r:
                        healthy = r.status == 200
                except (urllib.error.URLError, OSError):
                    healthy = False
            rows.append({**comp, "alive": alive, "healthy": healthy, "restarts": comp.get("restarts", 0)})
        return rows

    @property
    def load_metrics_port(self) -> int:
        """Give this to `dvcwatch load --metrics-port`: Prometheus already scrapes it."""
        return int(urllib.parse.urlsplit(self.urls["load-metrics"]).port or 0)

    def set_faults(self, faults: list[dict[str, Any]]) -> Any:
        """Replace the sandbox's active faults (contracts §5); [] clears them."""
        return _http_json(
            "PUT", f"{self.urls['sandbox']}/_sandbox/faults", {"faults": faults}, self.sandbox_token
        )

    def cut_link(self, ward: str, cut: bool = True) -> None:
        comp = next((c for c in self.components if c["name"] == f"link-{ward}"), None)
        if comp is None or not processes.pid_alive(comp["pid"]):
            raise StackError(f"no running link for ward {ward!r}")
        os.kill(comp["pid"], signal.SIGUSR1 if cut else signal.SIGUSR2)

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.urls['prometheus']}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        answer = _http_json("GET", url)
        return answer["data"]["result"]

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts as Alertmanager holds them, inhibited ones included."""
        return _http_json("GET", f"{self.urls['alertmanager']}/api/v2/alerts?inhibited=true&silenced=true")

    def notifications(self) -> list[dict[str, Any]]:
        """What the listener received, the dead man's switch's heartbeats left out (`heartbeats`)."""
        from alerts.amconfig import HEARTBEAT_RECEIVER
        from alerts.webhook import read_jsonl

        return [
            r
            for r in read_jsonl(self.run_dir / "listener" / "alerts.jsonl")
            if r.get("receiver") != HEARTBEAT_RECEIVER
        ]

    def heartbeats(self) -> list[dict[str, Any]]:
        """DvcWatchdog notifications: the whole path Prometheus → Alertmanager → receiver works."""
        from alerts.amconfig import HEARTBEAT_RECEIVER
        from alerts.webhook import read_jsonl

        return [
            r
            for r in read_jsonl(self.run_dir / "listener" / "alerts.jsonl")
            if r.get("receiver") == HEARTBEAT_RECEIVER
        ]


def _alive(managed: Any) -> bool:
    proc = getattr(managed, "proc", None)
    return proc is not None and proc.poll() is None
