"""How many probes per CPU second: dvcwatch's prober against prometheus-blackbox-exporter, side by side.

Everything runs on loopback against one tiny local target (a raw asyncio HTTP server answering
"ok" and closing, so the target costs little). Each measured prober runs in its own process pinned to
one core; the target and the load driver share the other core. CPU time comes from /proc/<pid>/stat.

  1. /probe, driven the way Prometheus drives blackbox_exporter (same driver, same concurrency), for
     dvcwatch and for blackbox_exporter (module http_2xx): probes/s, CPU s per 1000 probes. A third
     process, a bare aiohttp `/probe` (one GET with a fresh connection, a fixed answer: no phases, no
     checks, no metrics), shows what aiohttp itself costs on the same loop: the floor under dvcwatch.
     `--rounds N` alternates the three N times; the ratios are per round, side by side.
  2. dvcwatch's own scheduler at a high offered rate (many targets on a short interval).
  3. The field case: 2 000 targets on a 30 s interval held by one process on one core; counts late and
     dropped probes from the prober's own metrics.

Run: .venv/bin/python benchmarks/probe_throughput.py [--quick] [--rounds N] [--endpoint-only]
Prints a table, then as the LAST line one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dvcwatch.core import processes  # noqa: E402
from dvcwatch.orchestration import binaries  # noqa: E402

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


# -- the target -----------------------------------------------------------------------------------


class _Target(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" in self.buf:
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]
            self.transport.close()


async def _serve_target(port: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Target, "127.0.0.1", port, backlog=4096)
    async with server:
        await asyncio.sleep(seconds)  # bounded: the benchmark never leaves it running


async def _serve_bare(port: int, seconds: float) -> None:
    """The floor: aiohttp's server and client doing one probe's requests and nothing else."""
    import aiohttp
    from aiohttp import web

    answer = b"# HELP probe_success 1 if the probe succeeded\n# TYPE probe_success gauge\nprobe_success 1\n"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=0)) as session:

        async def probe(request: web.Request) -> web.Response:
            async with session.get(request.query["target"]) as r:
                await r.read()
            return web.Response(body=answer)

        app = web.Application()
        app.router.add_get("/probe", probe)
        app.router.add_get("/-/healthy", lambda _r: web.Response(text="OK\n"))  # type: ignore[arg-type,return-value]
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            await asyncio.sleep(seconds)  # bounded: the benchmark never leaves it running
        finally:
            await runner.cleanup()


def _run_on_prober_loop(main: Any) -> None:
    from probes import eventloop

    eventloop.run(main)


def _spawn(mode: str, seconds: float, core: int | None) -> tuple[subprocess.Popen[bytes], str]:
    port = processes.free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, mode, str(port), "--serve-seconds", str(seconds)],
        start_new_session=True,
    )
    if core is not None:
        os.sched_setaffinity(proc.pid, {core})
    try:
        processes.wait_tcp("127.0.0.1", port, timeout=30, proc=proc)
    except Exception:
        proc.kill()
        raise
    return proc, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def bare_prober(seconds: float, core: int | None) -> Iterator[tuple[int, str]]:
    proc, url = _spawn("--serve-bare", seconds, core)
    try:
        yield proc.pid, url
    finally:
        proc.terminate()
        proc.wait(10)


def start_target(seconds: float, core: int | None) -> tuple[subprocess.Popen[bytes], str]:
    port = processes.free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-target", str(port), "--serve-seconds", str(seconds)],
        start_new_session=True,
    )
    if core is not None:
        os.sched_setaffinity(proc.pid, {core})
    try:
        processes.wait_tcp("127.0.0.1", port, timeout=10, proc=proc)
    except Exception:
        proc.kill()
        raise
    return proc, f"http://127.0.0.1:{port}"


# -- measuring ------------------------------------------------------------------------------------


async def drive_probe_endpoint(
    probe_url: str, target: str, module: str, seconds: float, concurrency: int
) -> tuple[int, int]:
    """Hit /probe as fast as `concurrency` scrapers can; (probes, successful probes)."""
    import aiohttp

    done = ok = 0
    deadline = time.monotonic() + seconds
    url = f"{probe_url}/probe?target={target}&module={module}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal done, ok
            while time.monotonic() < deadline:
                async with session.get(url) as r:
                    text = await r.text()
                done += 1
                ok += "\nprobe_success 1" in text

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, ok


def measure_endpoint(name: str, pid: int, probe_url: str, target: str, module: str, seconds: float) -> dict:
    asyncio.run(drive_probe_endpoint(probe_url, target, module, 1.0, 4))  # warm up
    cpu0, t0 = processes.cpu_seconds(pid), time.monotonic()
    n, ok = asyncio.run(drive_probe_endpoint(probe_url, target, module, seconds, 8))
    cpu, wall = processes.cpu_seconds(pid) - cpu0, time.monotonic() - t0
    return {
        "prober": name,
        "mode": "/probe",
        "probes": n,
        "successful": ok,
        "probes_per_second": n / wall,
        "cpu_seconds_per_1000": 1000 * cpu / n if n else None,
        "probes_per_cpu_second": n / cpu if cpu else None,
    }


def fetch_metrics(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url + "/metrics", timeout=60) as r:
        return r.read().decode()


def parse_metrics(text: str, last_runs: dict[str, float] | None = None) -> dict[str, float]:
    """The prober's own counters; fills `last_runs` with each target's last-run timestamp."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if last_runs is not None and s.name == "dvc_probe_last_run_timestamp_seconds":
                last_runs[s.labels["target"]] = s.value
            if s.name.startswith("dvc_prober_"):
                key = s.name + ("_" + s.labels["result"] if "result" in s.labels else "")
                out[key] = out.get(key, 0.0) + s.value
    return out


@contextlib.contextmanager
def dvcwatch_prober(config: Path, workdir: Path, core: int | None) -> Iterator[binaries.Managed]:
    """A `dvcwatch probe` process pinned to `core`, always stopped."""
    port = processes.free_port()
    args = [
        sys.executable,
        "-m",
        "dvcwatch",
        "probe",
        "--config",
        str(config),
        "--listen",
        f"127.0.0.1:{port}",
    ]
    m = binaries.Managed(
        "dvcwatch-prober", args, f"http://127.0.0.1:{port}/-/healthy", workdir / "prober.log"
    )
    m.env = {"PYTHONPATH": str(ROOT)}
    with m:
        if core is not None and m.pid:
            os.sched_setaffinity(m.pid, {core})
        yield m


def write_targets(path: Path, base: str, n: int, interval: float, timeout: float) -> None:
    lines = [
        "vantage: benchmark",
        "concurrency: 500",
        f"defaults: {{interval: {interval}, timeout: {timeout}, jitter: 0.1}}",
        "targets:",
    ]
    lines += [f"  - {{name: t{i}, module: http_2xx, url: '{base}/t/{i}'}}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")


def measure_scheduled(
    label: str, base: str, workdir: Path, n: int, interval: float, seconds: float, core: int | None
) -> dict:
    cfg = workdir / f"{label}.yaml"
    write_targets(cfg, base, n, interval, min(interval * 0.8, 5.0))
    last_runs: dict[str, float] = {}
    with dvcwatch_prober(cfg, workdir, core) as m:
        url = binaries.url_of(m)
        assert m.pid
        started = time.monotonic()
        time.sleep(min(interval, 3.0))  # let the first slots spread in
        before_text, cpu0, t0 = fetch_metrics(url), processes.cpu_seconds(m.pid), time.monotonic()
        time.sleep(seconds)
        after_text, now = fetch_metrics(url), time.time()
        cpu, wall, up = processes.cpu_seconds(m.pid) - cpu0, time.monotonic() - t0, time.monotonic() - started
    before, after = parse_metrics(before_text), parse_metrics(after_text, last_runs)
    # a target is stale when its last run is older than a slot plus jitter plus a second of slack;
    # only meaningful once every target's first slot (spread over one interval) has passed
    limit = interval * 1.1 + 1.0
    stale = sum(now - last_runs.get(f"t{i}", 0.0) > limit for i in range(n)) if up > limit else None
    # the final scrape's own CPU is inside `cpu`: a conservative figure
    probes = (
        after["dvc_prober_probes_total_success"]
        + after["dvc_prober_probes_total_failure"]
        - (before["dvc_prober_probes_total_success"] + before["dvc_prober_probes_total_failure"])
    )
    failed = after["dvc_prober_probes_total_failure"] - before["dvc_prober_probes_total_failure"]
    return {
        "prober": "dvcwatch",
        "mode": f"scheduled {n}×{interval:g}s",
        "probes": int(probes),
        "successful": int(probes - failed),
        "expected": round(n * wall / interval),
        "stale_targets": stale,
        "probes_per_second": probes / wall,
        "cpu_seconds_per_1000": 1000 * cpu / probes if probes else None,
        "probes_per_cpu_second": probes / cpu if cpu else None,
        "cpu_share_of_core": cpu / wall,
        "late": int(after["dvc_prober_probes_late_total"]),
        "dropped": int(after["dvc_prober_probes_dropped_total"]),
    }


# -- the run --------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs (a smoke test, not a measurement)")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the /probe runs N times (default 1)")
    ap.add_argument(
        "--endpoint-only", action="store_true", help="only the /probe comparison, not the scheduler runs"
    )
    ap.add_argument("--serve-target", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--serve-seconds", type=float, default=600, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_target:
        asyncio.run(_serve_target(args.serve_target, args.serve_seconds))
        return 0
    if args.serve_bare:
        _run_on_prober_loop(_serve_bare(args.serve_bare, args.serve_seconds))
        return 0

    quick = args.quick
    endpoint_seconds = 3.0 if quick else 15.0
    field_seconds = 35.0 if quick else 75.0
    cores = sorted(os.sched_getaffinity(0))
    prober_core = cores[0] if len(cores) > 1 else None
    other = set(cores[1:]) if len(cores) > 1 else None
    if other:
        os.sched_setaffinity(0, other)
    rows: list[dict] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dvcwatch-bench-") as tmp:
        work = Path(tmp)
        rounds = max(1, args.rounds)
        target_proc, base = start_target(field_seconds + (8 + 4 * rounds) * endpoint_seconds + 180, cores[-1])
        try:
            empty = work / "empty.yaml"
            empty.write_text("vantage: benchmark\nprobe_only: true\n")
            bb_cfg = work / "blackbox.yml"
            bb_cfg.write_text("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n")
            for _ in range(rounds):
                with dvcwatch_prober(empty, work, prober_core) as ours:
                    assert ours.pid
                    rows.append(
                        measure_endpoint(
                            "dvcwatch",
                            ours.pid,
                            binaries.url_of(ours),
                            base + "/x",
                            "http_2xx",
                            endpoint_seconds,
                        )
                    )
                with binaries.blackbox_exporter(bb_cfg, work / "bb") as bb:
                    assert bb.pid
                    os.sched_setaffinity(bb.pid, {prober_core} if prober_core is not None else set(cores))
                    rows.append(
                        measure_endpoint(
                            "blackbox_exporter",
                            bb.pid,
                            binaries.url_of(bb),
                            base + "/x",
                            "http_2xx",
                            endpoint_seconds,
                        )
                    )
                with bare_prober(4 * endpoint_seconds + 60, prober_core) as (pid, url):
                    rows.append(
                        measure_endpoint("bare aiohttp", pid, url, base + "/x", "http_2xx", endpoint_seconds)
                    )
                loads.append(os.getloadavg()[0])
            if args.endpoint_only:
                return _report(rows, None, quick, field_seconds, loads)
            rows.append(
                measure_scheduled(
                    "burst", base, work, 500 if quick else 1000, 1.0, endpoint_seconds, prober_core
                )
            )
            field = measure_scheduled("field", base, work, 2000, 30.0, field_seconds, prober_core)
            rows.append(field)
        finally:
            target_proc.terminate()
            target_proc.wait(10)
    return _report(rows, field, quick, field_seconds, loads)


def _ratios(rows: list[dict], name: str) -> list[float]:
    """`name`'s probes per CPU-second over blackbox_exporter's, round by round (each pair side by side)."""
    ours = [r["probes_per_cpu_second"] for r in rows if r["prober"] == name and r["mode"] == "/probe"]
    bb = [r["probes_per_cpu_second"] for r in rows if r["prober"] == "blackbox_exporter"]
    return [a / b for a, b in zip(ours, bb, strict=True) if a and b]


def _report(
    rows: list[dict], field: dict | None, quick: bool, field_seconds: float, loads: list[float]
) -> int:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="probes on loopback, one core per prober")
    for col in (
        "prober",
        "mode",
        "probes",
        "ok",
        "probes/s",
        "CPU s / 1000",
        "probes / CPU s",
        "late",
        "dropped",
    ):
        table.add_column(col, justify="left" if col in ("prober", "mode") else "right")
    for r in rows:
        table.add_row(
            r["prober"],
            r["mode"],
            str(r["probes"]),
            str(r["successful"]),
            f"{r['probes_per_second']:.0f}",
            f"{r['cpu_seconds_per_1000']:.2f}" if r["cpu_seconds_per_1000"] else "-",
            f"{r['probes_per_cpu_second']:.0f}" if r["probes_per_cpu_second"] else "-",
            str(r.get("late", "-")),
            str(r.get("dropped", "-")),
        )
    console = Console()
    console.print(table)
    ours_ep, bb_ep = rows[0], rows[1]
    ratios, floor = _ratios(rows, "dvcwatch"), _ratios(rows, "bare aiohttp")

    def span(xs: list[float]) -> str:
        return f"{min(xs):.2f}×" if len(xs) == 1 else f"{min(xs):.2f}–{max(xs):.2f}×"

    console.print(
        f"/probe probes per CPU-second against blackbox_exporter, side by side: dvcwatch {span(ratios)}, "
        f"bare aiohttp {span(floor)} ({len(ratios)} round(s); 1-min load average "
        f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores)"
    )
    summary: dict[str, Any] = {
        "quick": quick,
        "dvcwatch_probe_endpoint_per_s": round(ours_ep["probes_per_second"], 1),
        "dvcwatch_probe_endpoint_cpu_s_per_1000": round(ours_ep["cpu_seconds_per_1000"], 3),
        "blackbox_probe_endpoint_per_s": round(bb_ep["probes_per_second"], 1),
        "blackbox_probe_endpoint_cpu_s_per_1000": round(bb_ep["cpu_seconds_per_1000"], 3),
        "dvcwatch_over_blackbox": [round(x, 2) for x in ratios],
        "bare_aiohttp_over_blackbox": [round(x, 2) for x in floor],
        "load_average_1m": [round(x, 1) for x in loads],
    }
    if field is not None:
        burst = next(r for r in rows if r["mode"].startswith("scheduled") and r is not field)
        console.print(
            f"2000 targets / 30 s for {field_seconds:g} s: {field['probes']} probes (~{field['expected']} at a "
            f"steady rate), {field['cpu_share_of_core']:.1%} of one core, late {field['late']}, dropped "
            f"{field['dropped']}, targets without a run in the last 34 s: {field['stale_targets']}"
        )
        summary |= {
            "dvcwatch_scheduled_per_s": round(burst["probes_per_second"], 1),
            "dvcwatch_scheduled_cpu_s_per_1000": round(burst["cpu_seconds_per_1000"], 3),
            "dvcwatch_scheduled_late": burst["late"],
            "dvcwatch_scheduled_dropped": burst["dropped"],
            "field_2000x30s_probes": field["probes"],
            "field_2000x30s_expected": field["expected"],
            "field_2000x30s_stale_targets": field["stale_targets"],
            "field_2000x30s_late": field["late"],
            "field_2000x30s_dropped": field["dropped"],
            "field_2000x30s_cpu_share": round(field["cpu_share_of_core"], 3),
        }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
