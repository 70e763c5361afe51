"""Wall time and peak memory of a 25-service `dvcwatch shop` sweep at parallel 1, 4 and 8.

Each sweep runs as its own `python -m dvcwatch shop` process against one sandbox process started
beside it; memory is sampled every 0.5 s over the whole process tree of the sweep (Python, the
Playwright driver, chromium and its renderers). PSS (proportional set size, from smaps_rollup)
counts shared pages once, so it is the honest figure; the RSS sum over-counts chromium's shared
libraries and is shown for comparison. Targets (issue #4): < 60 s and < 1.5 GB for the desktop sweep.

`--browser` (repeatable) adds, at each parallel level, a sweep on the first one, then the first two ...
browser servers (`shop --browser`), beside the sweep on the local browser. `local` starts a
`playwright launch-server` on loopback for the run. CPU per journey counts the whole sweep's process
tree and, for a local server, the server's tree over the sweep (memory is the sweep's tree only).

    .venv/bin/python benchmarks/shop_sweep.py                  # parallel 1, 4, 8; desktop
    .venv/bin/python benchmarks/shop_sweep.py --parallel 4 --persona phone
    .venv/bin/python benchmarks/shop_sweep.py --parallel 4 --browser local --browser local

Prints a table, then as the last line one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dvcwatch.core.processes import children_map  # noqa: E402
from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox  # noqa: E402
from playwright_journeys.browser import CHROMIUM_ARGS, default_executable  # noqa: E402

RUN_TIMEOUT = 600
# smaps_rollup walks each process's page tables: at 0.1 s over ~25 chromium processes the sampler
# itself took a share of the 2 cores and slowed the sweep it measured by ~10 s; memory moves slowly
SAMPLE_SECONDS = 0.5
TARGET_SECONDS = 60
TARGET_BYTES = 1.5 * 1024**3


def _tree(root: int) -> list[int]:
    kids, out, todo = children_map(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(pss, rss) in bytes for one process; zeros if it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return pss, rss


class Sampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_pss = self.peak_rss = self.peak_procs = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            pids = _tree(self.root)
            pss = rss = 0
            for pid in pids:
                p, r = _memory(pid)
                pss, rss = pss + p, rss + r
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_procs = max(self.peak_procs, len(pids))
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


def _cpu_seconds(root: int) -> float:
    """User and system time of a live process tree, its reaped children included."""
    import psutil

    total = 0.0
    for pid in _tree(root):
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class LocalServer:
    """`playwright launch-server` on loopback with the local browser's binary and switches."""

    def __init__(self, folder: Path) -> None:
        config = folder / f"server-{secrets.token_hex(4)}.json"
        path = "/" + secrets.token_hex(8)
        config.write_text(json.dumps({"executablePath": default_executable(), "args": CHROMIUM_ARGS,
                                      "host": "127.0.0.1", "port": 0, "wsPath": path, "headless": True}))  # fmt: skip
        cmd = [str(Path(sys.executable).parent / "playwright"), "launch-server", "--browser", "chromium"]
        self.proc = subprocess.Popen([*cmd, "--config", str(config)], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, start_new_session=True)  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # its first line is the endpoint, once it listens
        if not re.match(r"^ws://127\.0\.0\.1:\d+/", line):
            self.stop()
            raise SystemExit(f"launch-server did not start: {line!r}")
        self.url = line.strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def sweep(
    url: str, parallel: int, persona: str, out: Path, servers: list[tuple[str, int | None]] | None = None
) -> dict[str, object]:
    """`servers`: (endpoint, local server pid or None) for `shop --browser`; none: the local browser."""
    cmd = [sys.executable, "-m", "dvcwatch", "shop", "--target", url, "--parallel", str(parallel)]
    cmd += ["--persona", persona, "--out", str(out), "--fail-on", "fail"]
    for endpoint, _ in servers or []:
        cmd += ["--browser", endpoint]
    local = [pid for _, pid in servers or [] if pid is not None]
    server_cpu = sum(_cpu_seconds(pid) for pid in local)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = Sampler(proc.pid)
    sampler.start()
    too_long = threading.Timer(RUN_TIMEOUT, proc.kill)
    too_long.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # its rusage holds every descendant it reaped
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
    except ChildProcessError:
        code, usage = proc.wait(), None
    wall = time.monotonic() - started
    too_long.cancel()
    sampler.stop()
    server_cpu = sum(_cpu_seconds(pid) for pid in local) - server_cpu
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    summary = results.get("summary", {})
    cpu = (usage.ru_utime + usage.ru_stime if usage else 0.0) + server_cpu
    journeys = summary.get("total", 0)
    return {
        "parallel": parallel,
        "persona": persona,
        "browser": f"{len(servers)} server(s)" if servers else "local",
        "exit_code": code,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "server_cpu_seconds": round(server_cpu, 1),
        "cpu_per_journey_seconds": round(cpu / journeys, 2) if journeys else None,
        "peak_pss_bytes": sampler.peak_pss,
        "peak_rss_sum_bytes": sampler.peak_rss,
        "peak_processes": sampler.peak_procs,
        "journeys": summary.get("total", 0),
        "passed": summary.get("pass", 0),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parallel", type=int, action="append", help="repeatable; default 1, 4, 8")
    ap.add_argument("--persona", default="desktop")
    ap.add_argument(
        "--browser",
        action="append",
        default=[],
        metavar="WS_URL|local",
        help="a browser server for `shop --browser` (repeatable); `local` starts one on loopback",
    )
    args = ap.parse_args()
    levels = args.parallel or [1, 4, 8]
    rows = []
    started: list[LocalServer] = []
    with tempfile.TemporaryDirectory(prefix="dvcwatch-shop-bench-") as tmp, EmbeddedSandbox() as sandbox:
        assert sandbox.url
        try:
            servers: list[tuple[str, int | None]] = []
            for b in args.browser:
                if b == "local":
                    started.append(LocalServer(Path(tmp)))
                    servers.append((started[-1].url, started[-1].proc.pid))
                else:
                    servers.append((b, None))
            for p in levels:
                for k in range(len(servers) + 1):
                    rows.append(sweep(sandbox.url, p, args.persona, Path(tmp) / f"p{p}-b{k}", servers[:k]))
                    print(f"parallel {p}, {rows[-1]['browser']}: {rows[-1]['wall_seconds']} s",
                          file=sys.stderr, flush=True)  # fmt: skip
        finally:
            for s in started:
                s.stop()
        load = os.getloadavg()
    gib = 1024**3
    print(
        f"{'parallel':>8} {'browser':>11} {'wall s':>7} {'CPU/j s':>7} {'peak PSS':>9} {'RSS sum':>8} "
        f"{'procs':>5} {'passed':>8} {'target':>7}"
    )
    for r in rows:
        ok = r["wall_seconds"] < TARGET_SECONDS and r["peak_pss_bytes"] < TARGET_BYTES  # type: ignore[operator]
        print(
            f"{r['parallel']:>8} {r['browser']:>11} {r['wall_seconds']:>7} {r['cpu_per_journey_seconds']:>7} "
            f"{r['peak_pss_bytes'] / gib:>8.2f}G "  # type: ignore[operator]
            f"{r['peak_rss_sum_bytes'] / gib:>7.2f}G {r['peak_processes']:>5} "  # type: ignore[operator]
            f"{r['passed']:>3}/{r['journeys']:<4} {'met' if ok else 'MISSED':>7}"
        )
    print(f"persona {args.persona}; machine load average at the end {load[0]:.1f} on {os.cpu_count()} cores")
    print(json.dumps({"benchmark": "shop_sweep", "persona": args.persona, "cores": os.cpu_count(),
                      "load_average_1m": round(load[0], 2), "runs": rows}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
