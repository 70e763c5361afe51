"""Probe series as a prober and a Prometheus would record them, run through the rules by promtool.

Whether a rule pages on one slow probe in fifty, or on a healthy run with jitter, is a question about
the rule logic over realistic series. promtool evaluates the real rules exactly and in seconds, where
a real stack needs ten minutes per run and cannot replay the same run against two designs. So this
module simulates what reaches the rules: per-target probe slots spread over the interval with random
jitter, each probe failing at its timeout when it is slow, stalled or faulted, and each prober scraped
at its own phase, so an evaluation sees a scrape up to one interval old (the lag a real stack has).

Every evaluation expects no alert; promtool's failures then list every alert that fired and when.
`benchmarks/paging_designs.py` compares designs with it, `tests/alerts/test_paging.py` holds the
committed one to zero alerts in ten healthy minutes.
"""

from __future__ import annotations

import math
import random
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alerts.rulegen import alert_names, render

VANTAGES = ("trung-tam", "phuong-a")
WARD = "phuong-a"
JOB = "dvc-probe"
# the home page and some catalog services; each vantage probes them all, as `dvcwatch stack` does
TARGETS = (
    ("trang-chu", ""),
    ("dich-vu-dang-ky-khai-sinh", "dang-ky-khai-sinh"),
    ("dich-vu-dang-ky-thuong-tru", "dang-ky-thuong-tru"),
    ("dich-vu-dang-ky-tam-tru", "dang-ky-tam-tru"),
    ("dich-vu-thong-bao-luu-tru", "thong-bao-luu-tru"),
    ("dich-vu-cap-ho-chieu", "cap-ho-chieu"),
    ("dich-vu-dang-ky-thi-thpt", "dang-ky-thi-thpt"),
    ("dich-vu-dang-ky-ket-hon", "dang-ky-ket-hon"),
)
RULE_FILES = ("recording.yaml", "availability.yaml", "burn-rates.yaml", "harness.yaml")
HEARTBEAT = "DvcWatchdog"


@dataclass(frozen=True)
class Timing:
    """One design's clock: probes every `probe_interval` s with `probe_timeout`, scrapes and rule
    evaluations every `scrape` s (whole seconds: promtool's sample grid)."""

    probe_interval: float
    probe_timeout: float
    scrape: int
    jitter: float = 0.1


@dataclass(frozen=True)
class Scenario:
    name: str
    seconds: int = 600
    slow_one_in: int = 0  # each probe, independently, times out with this odds
    stall_one_in: int = 0  # each probe round of one vantage stalls (every probe in it times out)
    blip_one_in: int = 0  # each round of one vantage, its link blips (every probe in it refused at once)
    missed_scrape_one_in: int = 0  # a prober's scrape fails: `up` 0, its series stale for one sample
    fault: str = ""  # "hang" (the portal: every vantage) or "cut" (the ward's link)
    fault_at: int = 60


def _faulted(scenario: Scenario, vantage: str, start: float) -> bool:
    if not scenario.fault or start < scenario.fault_at:
        return False
    return scenario.fault == "hang" or vantage == WARD


def _rounds(one_in: int, rounds: int, interval: float, rng: random.Random) -> list[float]:
    """Starts of the one-interval windows (one round in `one_in`) in which a vantage's probes fail."""
    return [
        k * interval + rng.uniform(0, interval) for k in range(rounds) if one_in and rng.random() < 1 / one_in
    ]


def _within(start: float, windows: list[float], interval: float) -> bool:
    return any(w <= start < w + interval for w in windows)


def _probe_results(scenario: Scenario, timing: Timing, rng: random.Random) -> dict[tuple[str, str], list]:
    """(vantage, target) → [(finish time, success)], in finish order."""
    p, t = timing.probe_interval, timing.probe_timeout
    rounds = math.ceil(scenario.seconds / p) + 1
    phase = {name: rng.uniform(0, p) for name, _ in TARGETS}  # a hash of the name: same at every vantage
    out: dict[tuple[str, str], list] = {}
    for vantage in VANTAGES:
        stalls = _rounds(scenario.stall_one_in, rounds, p, rng)
        blips = _rounds(scenario.blip_one_in, rounds, p, rng)
        for name, _ in TARGETS:
            results = []
            for k in range(rounds):
                start = phase[name] + k * p + rng.uniform(0, timing.jitter * p)
                slow = bool(scenario.slow_one_in) and rng.random() < 1 / scenario.slow_one_in
                times_out = slow or _within(start, stalls, p) or _faulted(scenario, vantage, start)
                refused = _within(start, blips, p)
                took = t if times_out else rng.uniform(0.02, 0.3)
                results.append((start + took, 0 if times_out or refused else 1))
            out[(vantage, name)] = sorted(results)
    return out


def _runs(values: list[str]) -> str:
    """promtool's expanding notation: `1x29` is thirty 1s."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        n = j - i + 1
        if values[i] == "stale":
            parts.extend(["stale"] * n)
        else:
            parts.append(values[i] if n == 1 else f"{values[i]}x{n - 1}")
        i = j + 1
    return " ".join(parts)


def series(scenario: Scenario, timing: Timing, seed: int) -> list[dict[str, str]]:
    """promtool input series: every target's `dvc_probe_success` per vantage, each prober's `up` and
    last-run timestamp. Sample m is the scrape a rule evaluation at m*scrape s sees: taken at the
    prober's own phase, up to one interval earlier."""
    rng = random.Random(seed)
    results = _probe_results(scenario, timing, rng)
    samples = scenario.seconds // timing.scrape + 1
    out: list[dict[str, str]] = []
    for n, vantage in enumerate(VANTAGES):
        lag = rng.uniform(0, timing.scrape)
        missed = [
            bool(scenario.missed_scrape_one_in) and m > 0 and rng.random() < 1 / scenario.missed_scrape_one_in
            for m in range(samples)
        ]
        instance = f"127.0.0.1:{9101 + n}"
        up = ["0" if miss else "1" for miss in missed]
        out.append({"series": f'up{{job="{JOB}", instance="{instance}"}}', "values": _runs(up)})
        out.append(
            {
                "series": f'dvc_probe_last_run_timestamp_seconds{{job="{JOB}", instance="{instance}", vantage="{vantage}"}}',
                "values": f"0+{timing.scrape}x{samples - 1}",
            }
        )
        for name, service in TARGETS:
            done = results[(vantage, name)]
            values, i, last = [], 0, "1"
            for m in range(samples):
                at = m * timing.scrape - lag
                while i < len(done) and done[i][0] <= at:
                    last = str(done[i][1])
                    i += 1
                values.append("stale" if missed[m] else last)
            labels = f'job="{JOB}", instance="{instance}", target="{name}", service="{service}", vantage="{vantage}"'
            out.append({"series": f"dvc_probe_success{{{labels}}}", "values": _runs(values)})
    return out


def unit_test(scenario: Scenario, timing: Timing, seed: int, names: list[str]) -> dict[str, Any]:
    """One promtool test expecting no alert at any evaluation: its failures are the alerts."""
    checks = [
        {"eval_time": f"{t}s", "alertname": name, "exp_alerts": []}
        for t in range(0, scenario.seconds + 1, timing.scrape)
        for name in names
    ]
    return {
        "name": f"{scenario.name} (seed {seed})",
        "interval": f"{timing.scrape}s",
        "input_series": series(scenario, timing, seed),
        "alert_rule_test": checks,
    }


FAILED = re.compile(r"alertname: (\w+), time: ([0-9hms.]+),")
DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
UNIT = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}


def _seconds(text: str) -> float:
    return sum(float(v) * UNIT[u] for v, u in DURATION.findall(text))


@dataclass
class Fired:
    """What the rules raised in one run: alert name → the evaluation times (s) it was firing."""

    times: dict[str, list[float]]

    def episodes(self, name: str, step: int) -> int:
        """Separate firings: a page each (a firing alert is one notification until it resolves)."""
        ts = sorted(self.times.get(name, []))
        return sum(1 for i, t in enumerate(ts) if i == 0 or t - ts[i - 1] > step)

    def first(self, name: str, after: float = 0) -> float | None:
        return min((t for t in self.times.get(name, []) if t >= after), default=None)


def run(
    rules: dict[str, dict[str, Any]],
    scenario: Scenario,
    timing: Timing,
    seed: int,
    promtool: str,
    *,
    keep: Path | None = None,
) -> Fired:
    """Run `rules` (file name → content, as `rulegen.generate` returns) over one simulated run."""
    names = [n for n in alert_names({k: rules[k] for k in RULE_FILES}) if n != HEARTBEAT]
    with tempfile.TemporaryDirectory(prefix="dvcwatch-paging-") as tmp:
        d = keep or Path(tmp)
        d.mkdir(parents=True, exist_ok=True)
        for f in RULE_FILES:
            (d / f).write_text(render(rules[f]), encoding="utf-8")
        test = {
            "rule_files": list(RULE_FILES),
            "evaluation_interval": f"{timing.scrape}s",
            "tests": [unit_test(scenario, timing, seed, names)],
        }
        (d / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False, width=10_000), encoding="utf-8")
        proc = subprocess.run(
            [promtool, "test", "rules", "test.yaml"], cwd=d, capture_output=True, text=True, timeout=600
        )
    out = proc.stdout + proc.stderr
    times: dict[str, list[float]] = {}
    for name, when in FAILED.findall(out):
        times.setdefault(name, []).append(_seconds(when))
    if proc.returncode != 0 and not times:
        raise RuntimeError(f"promtool failed without an alert to show for it:\n{out[-2000:]}")
    return Fired(times)
