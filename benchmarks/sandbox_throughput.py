"""Throughput of the healthy sandbox portal on a mixed page/API workload, measured by wrk and Locust.

Why: the journeys sweep, the prober benchmark and the load tests all hit this server, so its own
ceiling must sit well above what they ask (and above the capacity model's knee, so a knee found
by a load test is the model's, not this machine's). The sandbox runs as a child process like the
harness starts it; each tool runs for a bounded time. Prints a table, then one JSON line.

    .venv/bin/python benchmarks/sandbox_throughput.py [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox  # noqa: E402

# The mix: what citizens, probes and load tests read most (pages and API, no writes).
PATHS = [
    "/",
    "/dich-vu/dang-ky-khai-sinh",
    "/tim-kiem?q=khai+sinh",
    "/tra-cuu",
    "/api/v1/health",
    "/api/v1/services",
    "/api/v1/services/cap-ho-chieu",
    "/api/v1/services/dang-ky-tam-tru/form",
]

WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), e.connect + e.read + e.write + e.status + e.timeout))
end
"""

LOCUSTFILE = """
from locust import FastHttpUser, constant, task

PATHS = %r


class Reader(FastHttpUser):
    wait_time = constant(0)

    @task
    def mixed(self):
        for p in PATHS:
            self.client.get(p, name=p.split("?")[0])
"""


def run_wrk(url: str, seconds: int, connections: int, tmp: Path) -> dict[str, float] | None:
    exe = shutil.which("wrk")
    if not exe:
        return None
    script = tmp / "mix.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in PATHS))
    out = subprocess.run(
        [
            exe,
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            str(script),
            "--timeout",
            "5s",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    requests, duration_us, p50_us, p95_us, errors = (int(x) for x in line.split()[1:])
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50_us / 1000,
        "p95_ms": p95_us / 1000,
        "errors": errors,
    }


def run_locust(url: str, seconds: int, users: int, tmp: Path) -> dict[str, float] | None:
    locustfile = tmp / "locustfile.py"
    locustfile.write_text(LOCUSTFILE % (PATHS,))
    prefix = tmp / "locust"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "2",
            "--loglevel",
            "ERROR",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        cwd=tmp,
    )
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        return None
    with stats.open() as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return {
        "requests": int(row["Request Count"]),
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "errors": int(row["Failure Count"]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=8, help="duration of each tool's run (default 8)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections / Locust users (default 32)")
    args = ap.parse_args()
    if not 1 <= args.seconds <= 120:
        print("error: --seconds must be 1..120", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="dvc-bench-") as d, EmbeddedSandbox() as sandbox:
        tmp = Path(d)
        url = sandbox.url or ""
        results = {
            "wrk": run_wrk(url, args.seconds, args.connections, tmp),
            "locust": run_locust(url, args.seconds, args.connections, tmp),
        }
    print(f"sandbox throughput, mixed workload of {len(PATHS)} pages/API calls, {args.seconds} s per tool")
    print(f"{'tool':<8}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
    for tool, r in results.items():
        if r is None:
            print(f"{tool:<8}{'(not available)':>48}")
            continue
        print(
            f"{tool:<8}{r['requests']:>10}{r['rps']:>10.0f}{r['p50_ms']:>10.1f}{r['p95_ms']:>10.1f}{r['errors']:>8}"
        )
    figures = {"seconds": args.seconds, "connections": args.connections}
    for tool, r in results.items():
        if r:
            figures.update({f"{tool}_{k}": round(v, 2) for k, v in r.items()})
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
