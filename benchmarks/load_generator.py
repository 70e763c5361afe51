"""Requests per CPU-second of load generators against one static target on loopback.

`wrk`, a bare Locust FastHttpUser, our citizen user (request naming, answer checks, the run's hooks
and timeline) and our flow user (a recorded flow of the same page, FLOW_REQUESTS requests a visit,
replayed by the core's sans-IO Replay with the profile's trouble-page check) each make the same GET
against the same tiny server, so the figure is requests per CPU-second (= requests/s per fully-used
core) whatever the target. A control, the bare user in a process that has read our configuration
(profile, catalog, flows) but does none of our per-request work, tells the process's size apart from
our per-request cost.

Each of ours runs in a pair with the bare user, the two started together on the generator core (the
target has the other), each one's requests and CPU time read at the same two instants. This machine's
speed drifts by ±20 % over seconds to minutes (a shared VM): generators measured one after the other
each met a different machine (the same bare user gave 0.73 to 1.05 against itself), while two side by
side meet the same machine at every instant. Pairs, not all four at once: four processes sharing one
core thrash its caches, which cost the small bare process more than the bigger ones (the control read
1.22 of the bare user with four at once, 0.92 in pairs), so the figures were no longer what one
generator on its own core would do. wrk, a C program with its own event loop, runs alone; its figure
is a reference, not a ratio. A pair counts for the ratios only when the two together kept their core
at least SATURATED busy (the generators, not the target, set the pace).
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
"""A pair counts only when its two Locust generators together kept their core at least this busy.
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
PAIRED = (CONTROL, CITIZEN, FLOW_USER)
"""Each runs in a pair with BARE, once a round."""
Run = tuple[int, float, float]


def side_by_side(
    url: str, seconds: int, users: int, flows: Path, profile: Path, names: tuple[str, ...]
) -> dict[str, Run]:
    """One run of some Locust generators started at once on the generator core; (requests, CPU seconds,
    wall seconds) for each between two readings taken at the same instants while all users run.
    Locust's start-up (imports, the catalog) is not load generation, so it is left out."""
    running: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name in names:
                locustfile, reads = LOCUST_GENERATORS[name]
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
    wrk_runs: list[Run] = []
    rounds: list[dict[str, dict[str, Run]]] = []  # each round: generator → its pair {BARE: …, it: …}
    try:
        processes.wait_tcp("127.0.0.1", port, timeout=5, proc=target)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        ) as progress:  # fmt: skip
            bar = progress.add_task("pairs", total=args.rounds * len(PAIRED))
            for _ in range(args.rounds):
                wrk_runs.append(wrk(url, args.seconds, args.users))
                pairs = {}
                for name in PAIRED:
                    pairs[name] = side_by_side(
                        url, args.seconds, args.users, flows, HERE / "static-profile.yaml", (BARE, name)
                    )
                    progress.advance(bar)
                rounds.append(pairs)
    finally:
        os.killpg(target.pid, signal.SIGTERM)
        target.wait(timeout=10)
        flows_dir.cleanup()

    def per_cpu(run: Run) -> float:
        return run[0] / run[1] if run[1] > 0 else 0.0

    def busy(pair: dict[str, Run]) -> float:
        """The generator core's busy share in a pair's window: both generators' CPU over the window."""
        return sum(cpu for _, cpu, _ in pair.values()) / max(w for _, _, w in pair.values())

    def counts(pair: dict[str, Run]) -> bool:
        return busy(pair) >= SATURATED and all(per_cpu(run) > 0 for run in pair.values())

    def in_pair(pair: dict[str, Run], name: str) -> float:
        return per_cpu(pair[name]) / per_cpu(pair[BARE])

    def ratio(name: str) -> float | None:
        """Median over the counted pairs of this generator's figure over the bare user's beside it."""
        values = [in_pair(r[name], name) for r in rounds if counts(r[name])]
        return statistics.median(values) if values else None

    print(
        f"target {url}{PATH} on CPU {sorted(TARGET_CORES)} · generators on CPU {sorted(GENERATOR_CORES)}, "
        f"each of ours side by side with the bare user · {args.users} connections each · "
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
    for name in (BARE, *PAIRED):
        runs = [pair[name] for r in rounds for pair in r.values() if name in pair]
        figures[name] = statistics.median(per_cpu(x) for x in runs)
        ratios[name] = None if name == BARE else ratio(name)
        shown = "" if ratios[name] is None else f"{ratios[name]:.3f}"
        print(
            f"{name:32} {sum(x[0] for x in runs):>10,} {sum(x[1] for x in runs):>8.1f} "
            f"{figures[name]:>20,.0f} {shown:>14}"
        )
    print()
    print("each round (requests per CPU-second: the bare user / ours beside it, and the ratio):")
    for k, r in enumerate(rounds, 1):
        cells = "  ".join(
            f"{name.removeprefix('dvcwatch ')} {per_cpu(pair[BARE]):,.0f}/{per_cpu(pair[name]):,.0f} "
            + (
                f"({in_pair(pair, name):.3f})"
                if counts(pair)
                else f"(not counted: core {busy(pair):.0%} busy)"
            )
            for name, pair in r.items()
        )
        print(f"  {k}: {cells}")
    print()
    counted = {name: sum(counts(r[name]) for r in rounds) for name in PAIRED}
    for who, name in (("our citizen", CITIZEN), ("our flow user", FLOW_USER)):
        value = ratios[name]
        if value is None:
            print(
                f"{who} against the bare FastHttpUser: no pair kept the core {SATURATED:.0%} busy; the "
                "machine, not the generators, set the pace: run again on a quieter machine"
            )
            continue
        lost = 1 - value
        verdict = f"loses {lost * 100:.1f} %" if lost >= 0 else f"gains {-lost * 100:.1f} %"
        print(
            f"{who} against the bare FastHttpUser: {verdict} per CPU-second, the median over "
            f"{counted[name]} of {args.rounds} pairs side by side (target: loses < 15 %)"
        )
    control = ratios[CONTROL]
    own = {
        name: None if control is None or ratios[name] is None else ratios[name] / control  # type: ignore[operator]
        for name in (CITIZEN, FLOW_USER)
    }
    if control is not None and own[FLOW_USER] is not None and own[CITIZEN] is not None:
        print(
            f"the bare user in a process of our size (our configuration read) makes {control:.3f} of the bare "
            f"user's: against it, the citizen {own[CITIZEN]:.3f}, the flow user {own[FLOW_USER]:.3f}: what "
            "our per-request work costs, apart from what the process's size does on this machine"
        )
    loss = None if ratios[CITIZEN] is None else 1 - ratios[CITIZEN]
    flow_loss = None if ratios[FLOW_USER] is None else 1 - ratios[FLOW_USER]
    summary = {
        "benchmark": "load_generator",
        "users": args.users,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "method": "each in a pair with the bare user, side by side on one core",
        "wrk_requests_per_cpu_second": round(wrk_figure, 1),
        "locust_bare_requests_per_cpu_second": round(figures[BARE], 1),
        "bare_with_our_configuration_ratio_to_bare": _rounded(control),
        "citizen_requests_per_cpu_second": round(figures[CITIZEN], 1),
        "citizen_ratio_to_bare": _rounded(ratios[CITIZEN]),
        "citizen_loss_vs_bare": _rounded(loss),
        "flow_user_requests_per_cpu_second": round(figures[FLOW_USER], 1),
        "flow_user_ratio_to_bare": _rounded(ratios[FLOW_USER]),
        "flow_user_loss_vs_bare": _rounded(flow_loss),
        "citizen_ratio_to_bare_with_our_configuration": _rounded(own[CITIZEN]),
        "flow_user_ratio_to_bare_with_our_configuration": _rounded(own[FLOW_USER]),
        "pairs_counted": counted,
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
