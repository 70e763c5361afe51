"""The capacity report and the live metrics, built from counts as Locust's statistics give them."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from prometheus_client import generate_latest

from loadtests.context import RunContext
from loadtests.counts import Counts
from loadtests.gates import load_gates
from loadtests.metrics import LoadMetrics
from loadtests.profile import load_load_profile
from loadtests.report import build, write
from loadtests.shapes import shape_for
from loadtests.timeline import Sample

DATA = Path(__file__).with_name("data")


@dataclass
class Entry:
    num_requests: int
    num_failures: int
    response_times: Counter[int] = field(default_factory=Counter)


def fake_stats(entries: dict[str, Entry]) -> Any:
    return SimpleNamespace(entries={(n, "GET"): e for n, e in entries.items()}, errors={})


def context(tmp_path: Path) -> RunContext:
    profile, ppath = load_load_profile(str(DATA / "knee-ramp.yaml"))
    gates, gpath = load_gates("default")
    from dvcwatch.core.profile import load_profile as load_target

    return RunContext(profile, ppath, gates, gpath, load_target(None), tmp_path, 150, 90, 0, 0, "127.0.0.1")


def ramp_samples(ctx: RunContext) -> list[Sample]:
    """One sample a second of a closed-loop load against 40 req/s: 2.2 req/s per user, then flat."""
    out = []
    for st in shape_for(ctx.profile).stages():
        for t in range(int(st.start) + 1, int(st.end) + 1):
            rps = min(st.users * 2.2, 40)
            ms = 100 if st.users * 2.2 < 40 else 100 + 20 * (st.users * 2.2 - 40)
            n = round(rps)
            classes = {"browse": Counts(n, 0, Counter({round(ms): n}))}
            out.append(
                Sample(float(t), 1.0, st.users, st.index, Counts(n, 0, Counter({round(ms): n})), classes)
            )
    return out


def test_report_json_has_the_contract_keys_and_a_knee_near_capacity(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    stats = fake_stats({"dang-ky-khai-sinh:find_service": Entry(100, 0, Counter({100: 100}))})
    report = build(
        ctx,
        host="http://127.0.0.1:8480",
        stats=stats,
        stages=shape_for(ctx.profile).stages(),
        samples=ramp_samples(ctx),
        started_at=datetime.now(UTC),
        stop_reason="completed",
        workers=[],
    )
    json_path, html_path = write(report, tmp_path)
    data = json.loads(json_path.read_text())
    assert {"users", "requests_per_second"} <= set(data["knee"])
    assert abs(data["knee"]["requests_per_second"] - 40) < 1
    assert data["partial"] is False
    for g in data["gates"]:
        assert {"name", "limit", "measured", "passed"} <= set(g)
    assert data["profile"]["sha256"] and data["gates_config"]["spec"]["error_ratio"] == 0.01
    assert {"dvcwatch", "locust", "python"} <= set(data["versions"])
    assert data["host"]["target"] == "http://127.0.0.1:8480"
    assert len(data["timeline"]) == 48

    html = html_path.read_text()
    assert html.count("<svg") == 4
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the report must not load anything"
    assert "knee" in html and "40 req/s" in html


def test_a_partial_run_is_marked_in_both_files(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    samples = ramp_samples(ctx)[:8]
    report = build(
        ctx,
        host="http://127.0.0.1:8480",
        stats=fake_stats({}),
        stages=shape_for(ctx.profile).stages(),
        samples=samples,
        started_at=datetime.now(UTC),
        stop_reason="worker lost (1 missing: w1)",
        workers=[],
    )
    _, html_path = write(report, tmp_path)
    assert report["partial"] and not report["passed"]
    assert "run.workers_lost" in report["broken_gates"]
    assert "PARTIAL: worker lost" in html_path.read_text()


def test_live_metrics_follow_the_contract_names_and_labels() -> None:
    m = LoadMetrics("stepped-ramp")
    window = {
        "dang-ky-khai-sinh:submit": Counts(10, 2, Counter({100: 8, 300: 2})),
        "_harness:otp_inbox": Counts(5, 0, Counter({5: 5})),
    }
    m.observe(12, window, window, 2.0)
    m.observe(12, window, window, 2.0)
    text = generate_latest(m.registry).decode()
    assert 'dvc_load_requests_total{service="dang-ky-khai-sinh",step="submit"} 20.0' in text
    assert 'dvc_load_failures_total{service="dang-ky-khai-sinh",step="submit"} 4.0' in text
    assert 'dvc_load_requests_per_second{service="dang-ky-khai-sinh",step="submit"} 5.0' in text
    assert 'dvc_load_latency_seconds{quantile="0.99",service="dang-ky-khai-sinh",step="submit"} 0.3' in text
    assert "dvc_load_users 12.0" in text
    assert 'dvc_load_run_info{profile="stepped-ramp"} 1.0' in text
    assert "_harness" not in text
