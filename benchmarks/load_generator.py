"""Requests per CPU-second of load generators against one static target on loopback.

`wrk`, a bare Locust FastHttpUser, our citizen user (request naming, answer checks, the run's hooks
and timeline) and our flow user (a recorded flow of the same page, FLOW_REQUESTS requests a visit,
replayed by the core's sans-IO Replay with the profile's trouble-page check) each make the same GET
against the same tiny server, so the figure is requests per CPU-second (= requests/s per fully-used
core) whatever the target. A control, the bare user in a process that has read our configuration
(profile, catalog, flows) but does none of our per-request work, tells the process's size apart from
our per-request cost.

The Locust generators run side by side, all at once, sharing one core (the target has the other):
each round starts them together and reads each one's requests and CPU time at the same two instants.
This machine's speed drifts by ±20 % over seconds to minutes (a shared VM); generators measured one
after the other each met a different machine, and the same bare user gave ratios of 0.73 to 1.05
against itself. Side by side, every generator meets the same machine at every instant: the bare user
against itself gave 0.99–1.02 in every round. wrk, a C program with its own event loop, runs alone;
its figure is a reference, not a ratio. A round counts for the ratios only when the generators
together kept their core at least SATURATED busy (the generators, not the target, set the pace).
Target: each of ours loses < 15 % against the bare FastHttpUser.

    .venv/bin/python benchmarks/load_generator.py [--seconds 5] [--users 20] [--rounds 6]

A readable table, then as the last line one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from dvcwatch.core import processes  # noqa: E402
from dvcwatch.core.errors import DvcwatchError  # noqa: E402

PATH = "/dich-vu/dang-ky-khai-sinh"
BODY = (
    "<!doctype html><html lang=vi><title>Đăng ký khai sinh</title>"
    '<h1 data-testid="service-name">Đăng ký khai sinh</h1>' + "x" * 2000 + "</html>"
).encode()
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


SATURATED = 0.85
"""A round counts only when the Locust generators together kept their core at least this busy.
Requests per CPU-second is a generator's cost only while the generators are the bottleneck; when the
target or a neighbour on the machine stalls them, they idle and the figure measures the stall."""


FLOW_REQUESTS = 10
"""Requests in the benchmark's flow, as many as a recorded visit has (service page, login, OTP, the
form's pages, uploads, submit, payment, tracking, result): a visit's set-up (bindings, a Replay) is
paid once per visit, as in the field."""


def write_flow(directory: Path) -> Path:
    """A flows directory with one recorded flow: the service page, FLOW_REQUESTS times."""
    request = (
        "  - {label: 'GET /dich-vu/{service}', method: GET, url: '${base}"
        + PATH
        + "', expect_status: [200]}\n"
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dang-ky-khai-sinh.flow.yaml").write_text(
        "version: 1\nservice: dang-ky-khai-sinh\nsteps:\n- step: find_service\n  requests:\n"
        + request * FLOW_REQUESTS,
        encoding="utf-8",
    )
    return directory


class Static(asyncio.Protocol):
    """The same 200 answer to every request, keep-alive: a target much faster than a generator."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]


def serve(port: int) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Static, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _cores() -> tuple[set[int], set[int]]:
    """(the target's core, the generators' core). With two or more cores the target gets its own, so
    a generator's CPU time is its own work, not the cost of serving itself; the Locust generators share
    theirs side by side (see the module's docstring)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return {cpus[0]}, {cpus[-1]}


TARGET_CORES, GENERATOR_CORES = _cores()


def _on(cores: set[int]) -> Any:
    return lambda: os.sched_setaffinity(0, cores)


def run_measured(
    cmd: list[str], timeout: float, env: dict[str, str] | None = None
) -> tuple[str, float, float]:
    """Run a generator to the end; return its stdout, CPU seconds (its whole tree) and wall seconds."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT, env=env, preexec_fn=_on(GENERATOR_CORES)
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    return text, usage.ru_utime + usage.ru_stime, time.monotonic() - started


def wrk(url: str, seconds: int, users: int) -> tuple[int, float, float]:
    text, cpu, wall = run_measured(["wrk", "-t1", f"-c{users}", f"-d{seconds}s", url + PATH], seconds + 30)
    m = re.search(r"(\d+) requests in", text)
    if not m:
        raise SystemExit(f"wrk gave no count:\n{text}")
    return int(m.group(1)), cpu, wall


def web_stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats/requests", timeout=5) as r:
        return json.loads(r.read())


BARE = "locust FastHttpUser (bare)"
CONTROL = "bare, our configuration read"
CITIZEN = "dvcwatch citizen"
FLOW_USER = "dvcwatch flow user"
LOCUST_GENERATORS = {
    BARE: ("locust_bare.py", ()),
    CONTROL: ("locust_bare_loaded.py", ("profile", "flows")),
    CITIZEN: ("locust_citizen.py", ("profile",)),
    FLOW_USER: ("locust_flow.py", ("profile", "flows")),
}
"""Name → (locustfile, what it reads of ours). The citizen reads no flows: with flows a run replays
them, and the citizen is the built-in user."""


def side_by_side(
    url: str, seconds: int, users: int, flows: Path, profile: Path
) -> dict[str, tuple[int, float, float]]:
    """One round: every Locust generator started at once on the generator core; (requests, CPU seconds,
    wall seconds) for each between two readings taken at the same instants while all users run.
    Locust's start-up (imports, the catalog) is not load generation, so it is left out."""
    running: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, (locustfile, reads) in LOCUST_GENERATORS.items():
                port = processes.free_port()
                out = Path(tmp) / str(port)
                cmd = [
                    sys.executable, "-m", "locust", "-f", str(HERE / locustfile), "--autostart",
                    "--autoquit", "0", "--web-host", "127.0.0.1", "--web-port", str(port), "--host", url,
                    "-u", str(users), "-r", str(users * 10), "-t", f"{seconds + 120}s", "--loglevel", "ERROR",
                    "--stop-timeout", "0",
                ]  # fmt: skip
                if "profile" in reads:
                    cmd += ["--dvc-profile", str(profile), "--dvc-out", str(out)]
                if "flows" in reads:
                    cmd += ["--dvc-flows", str(flows)]
                proc = subprocess.Popen(
                    cmd,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=ROOT,
                    preexec_fn=_on(GENERATOR_CORES),
                )
                running[name] = (proc, port)
            deadline = time.monotonic() + 90
            for name, (proc, port) in running.items():
                while True:
                    try:
                        if web_stats(port)["user_count"] >= users:
                            break
                    except OSError:
                        pass
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"{name} did not start its {users} users (exit {proc.poll()})")
                    time.sleep(0.2)
            time.sleep(1.0)  # connections open, greenlets warm

            def readings() -> dict[str, tuple[int, float]]:
                got = {}
                for name, (proc, port) in running.items():
                    agg = next(r for r in web_stats(port)["stats"] if r["name"] == "Aggregated")
                    got[name] = (agg["num_requests"], processes.cpu_seconds(proc.pid))
                return got

            t0, before = time.monotonic(), readings()
            time.sleep(seconds)
            t1, after = time.monotonic(), readings()
        finally:
            for proc, _ in running.values():
                proc.send_signal(signal.SIGINT)
            for proc, _ in running.values():
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return {
        name: (after[name][0] - before[name][0], after[name][1] - before[name][1], t1 - t0)
        for name in running
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=5, help="each round's measured window (default 5)")
    ap.add_argument("--users", type=int, default=20, help="concurrent connections/users (default 20)")
    ap.add_argument("--rounds", type=int, default=6, help="rounds, each with new processes (default 6)")
    args = ap.parse_args()
    try:
        processes.binary("wrk")
    except DvcwatchError as exc:
        raise SystemExit(str(exc)) from None

    port = processes.free_port()
    target = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], start_new_session=True, preexec_fn=_on(TARGET_CORES)
    )
    url = f"http://127.0.0.1:{port}"
    flows_dir = tempfile.TemporaryDirectory()
    flows = write_flow(Path(flows_dir.name) / "flows")
    wrk_runs: list[tuple[int, float, float]] = []
    rounds: list[dict[str, tuple[int, float, float]]] = []
    try:
        processes.wait_tcp("127.0.0.1", port, timeout=5, proc=target)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        ) as progress:  # fmt: skip
            bar = progress.add_task("rounds", total=args.rounds)
            for _ in range(args.rounds):
                wrk_runs.append(wrk(url, args.seconds, args.users))
                rounds.append(
                    side_by_side(url, args.seconds, args.users, flows, HERE / "static-profile.yaml")
                )
                progress.advance(bar)
    finally:
        os.killpg(target.pid, signal.SIGTERM)
        target.wait(timeout=10)
        flows_dir.cleanup()

    def per_cpu(run: tuple[int, float, float]) -> float:
        return run[0] / run[1] if run[1] > 0 else 0.0

    def busy(r: dict[str, tuple[int, float, float]]) -> float:
        """The generator core's busy share in a round: all Locust generators' CPU over the window."""
        return sum(cpu for _, cpu, _ in r.values()) / max(w for _, _, w in r.values())

    counted = [r for r in rounds if busy(r) >= SATURATED and per_cpu(r[BARE]) > 0 and per_cpu(r[CONTROL]) > 0]

    def ratio(name: str, against: str = BARE) -> float | None:
        """Median over counted rounds of this generator's figure over the other's in the same window."""
        values = [per_cpu(r[name]) / per_cpu(r[against]) for r in counted]
        return statistics.median(values) if values else None

    print(
        f"target {url}{PATH} on CPU {sorted(TARGET_CORES)} · generators on CPU {sorted(GENERATOR_CORES)}, "
        f"Locust's {len(LOCUST_GENERATORS)} side by side · {args.users} connections each · "
        f"{args.seconds} s × {args.rounds} rounds\n"
    )
    print(f"{'generator':32} {'requests':>10} {'CPU s':>8} {'req per CPU-second':>20} {'ratio to bare':>14}")
    wrk_figure = statistics.median(per_cpu(r) for r in wrk_runs)
    print(
        f"{'wrk (alone)':32} {sum(r[0] for r in wrk_runs):>10,} {sum(r[1] for r in wrk_runs):>8.1f} "
        f"{wrk_figure:>20,.0f} {'':>14}"
    )
    figures: dict[str, float] = {}
    ratios: dict[str, float | None] = {}
    for name in LOCUST_GENERATORS:
        runs = [r[name] for r in rounds]
        figures[name] = statistics.median(per_cpu(x) for x in runs)
        ratios[name] = ratio(name)
        shown = "" if ratios[name] is None else f"{ratios[name]:.3f}"
        print(
            f"{name:32} {sum(x[0] for x in runs):>10,} {sum(x[1] for x in runs):>8.1f} "
            f"{figures[name]:>20,.0f} {shown:>14}"
        )
    print()
    print("each round (requests per CPU-second, ratio to the bare user in the same window):")
    for k, r in enumerate(rounds, 1):
        cells = "  ".join(
            f"{name.split(' (')[0]} {per_cpu(r[name]):,.0f}"
            + (
                ""
                if name == BARE or per_cpu(r[BARE]) == 0
                else f" ({per_cpu(r[name]) / per_cpu(r[BARE]):.3f})"
            )
            for name in LOCUST_GENERATORS
        )
        mark = "" if r in counted else f"  not counted: core {busy(r):.0%} busy"
        print(f"  {k}: {cells}{mark}")
    print()
    for who, name in (("our citizen", CITIZEN), ("our flow user", FLOW_USER)):
        value = ratios[name]
        if value is None:
            print(
                f"{who} against the bare FastHttpUser: no round kept the core {SATURATED:.0%} busy; the "
                "machine, not the generators, set the pace: run again on a quieter machine"
            )
            continue
        lost = 1 - value
        verdict = f"loses {lost * 100:.1f} %" if lost >= 0 else f"gains {-lost * 100:.1f} %"
        print(
            f"{who} against the bare FastHttpUser: {verdict} per CPU-second, the median over "
            f"{len(counted)} of {args.rounds} rounds side by side (target: loses < 15 %)"
        )
    own = {name: ratio(name, against=CONTROL) for name in (CITIZEN, FLOW_USER)}
    if own[FLOW_USER] is not None and own[CITIZEN] is not None:
        print(
            f"against the bare user in a process of the same size (our configuration read): the citizen "
            f"{own[CITIZEN]:.3f}, the flow user {own[FLOW_USER]:.3f}: what our per-request work costs, "
            "apart from what the process's size does on this machine"
        )
    loss = None if ratios[CITIZEN] is None else 1 - ratios[CITIZEN]
    flow_loss = None if ratios[FLOW_USER] is None else 1 - ratios[FLOW_USER]
    summary = {
        "benchmark": "load_generator",
        "users": args.users,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "method": "side by side on one core",
        "wrk_requests_per_cpu_second": round(wrk_figure, 1),
        "locust_bare_requests_per_cpu_second": round(figures[BARE], 1),
        "bare_with_our_configuration_ratio_to_bare": _rounded(ratios[CONTROL]),
        "citizen_requests_per_cpu_second": round(figures[CITIZEN], 1),
        "citizen_ratio_to_bare": _rounded(ratios[CITIZEN]),
        "citizen_loss_vs_bare": _rounded(loss),
        "flow_user_requests_per_cpu_second": round(figures[FLOW_USER], 1),
        "flow_user_ratio_to_bare": _rounded(ratios[FLOW_USER]),
        "flow_user_loss_vs_bare": _rounded(flow_loss),
        "citizen_ratio_to_bare_with_our_configuration": _rounded(own[CITIZEN]),
        "flow_user_ratio_to_bare_with_our_configuration": _rounded(own[FLOW_USER]),
        "rounds_counted": len(counted),
        "saturated_at_least": SATURATED,
        "target_met": loss is not None and loss < 0.15 and flow_loss is not None and flow_loss < 0.15,
    }
    print(json.dumps(summary))
    return 0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        sys.exit(main())
