"""SLO gates: limits per step class, error ratio and throughput floor, judged on counted requests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.yamlconfig import load_model_text
from loadtests.counts import Counts, by_step_class, load_total
from loadtests.gates import GatesConfig, evaluate, load_gates

DATA = Path(__file__).with_name("data")


def counts(times_ms: dict[int, int], failures: int = 0) -> Counts:
    return Counts(sum(times_ms.values()), failures, Counter(times_ms))


def results(gates: GatesConfig, per_name: dict[str, Counts], seconds: float = 10) -> dict[str, object]:
    classes = by_step_class(per_name, gates.step_classes)
    return {g.name: g for g in evaluate(gates, classes, load_total(per_name), seconds)}


def test_a_fast_clean_run_passes_every_gate() -> None:
    gates, _ = load_gates("default")
    per_name = {
        "dang-ky-khai-sinh:find_service": counts({20: 100}),
        "dang-ky-khai-sinh:login": counts({40: 100}),
        "dang-ky-khai-sinh:submit": counts({90: 100}),
    }
    got = results(gates, per_name)
    assert all(g.passed for g in got.values()), got
    assert got["latency.write.p95"].measured == pytest.approx(0.09)
    assert got["throughput.min"].measured == pytest.approx(30.0)


def test_slow_submissions_break_the_write_gate_by_name_and_nothing_else() -> None:
    gates, _ = load_gates("default")
    per_name = {
        "thong-bao-luu-tru:find_service": counts({20: 100}),
        "thong-bao-luu-tru:otp": counts({30: 100}),
        "thong-bao-luu-tru:submit": counts({90: 90, 5000: 10}),
    }
    got = results(gates, per_name)
    broken = sorted(n for n, g in got.items() if not g.passed)
    assert broken == ["latency.write.p95"]
    assert got["latency.write.p95"].measured == pytest.approx(5.0)
    assert "BROKEN" in got["latency.write.p95"].sentence()


def test_the_error_ratio_counts_harness_requests_too() -> None:
    gates, _ = load_gates("default")
    per_name = {"dang-ky-xe:form": counts({10: 95}), "_harness:otp_inbox": counts({10: 5}, failures=5)}
    got = results(gates, per_name)
    assert got["errors.ratio"].measured == pytest.approx(0.05)
    assert not got["errors.ratio"].passed


def test_a_latency_gate_with_nothing_measured_does_not_pass() -> None:
    gates, _ = load_gates("default")
    got = results(gates, {"dang-ky-xe:find_service": counts({10: 10})})
    assert got["latency.write.p95"].measured is None
    assert not got["latency.write.p95"].passed


def test_the_throughput_floor_is_a_lower_limit() -> None:
    gates, _ = load_gates(str(DATA / "certify-gates.yaml"))
    got = results(gates, {"dang-ky-xe:find_service": counts({10: 40})}, seconds=10)
    assert got["throughput.min"].limit == 5
    assert got["throughput.min"].measured == pytest.approx(4.0)
    assert not got["throughput.min"].passed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "step_classes: {read: [find_servce]}",
            "gates.yaml:1: step_classes.read\\[0\\]: 'find_servce' is not a step",
        ),
        (
            "step_classes:\n  a: [login]\n  b: [otp, login]",
            "gates.yaml:3: step_classes.b\\[1\\]: step 'login' is in both a and b",
        ),
        (
            "step_classes: {a: [login]}\nlatency:\n  b: {p95: 1}",
            "gates.yaml:3: latency.b: latency gate for an unknown step class",
        ),
        ("step_classes: {a: [login]}\nlatency: {a: {p95: -1}}", "latency.a.p95"),
        ("step_classes: {a: [login]}\nerror_ratio: 2", "error_ratio"),
    ],
)
def test_invalid_gates_are_refused_with_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_model_text(GatesConfig, text, "gates.yaml")


def test_a_class_without_requests_fails_a_run_but_is_left_out_of_a_stage() -> None:
    gates, _ = load_gates("default")
    per_name = {"dang-ky-xe:find_service": counts({20: 50}), "dang-ky-xe:login": counts({40: 10})}
    classes = by_step_class(per_name, gates.step_classes)
    run = {g.name: g for g in evaluate(gates, classes, load_total(per_name), 10)}
    assert not run["latency.write.p95"].passed
    assert run["latency.write.p95"].measured is None
    stage = {
        g.name: g
        for g in evaluate(
            gates, classes, load_total(per_name), 10, with_throughput=False, unmeasured_ok={"write"}
        )
    }
    assert "latency.write.p95" not in stage
    assert "throughput.min" not in stage
    assert stage and all(g.passed for g in stage.values())


def test_a_class_whose_requests_all_failed_breaks_its_gate_however_fast() -> None:
    """Every login refused at once (fast 500s) is not an auth class within its SLO."""
    gates, _ = load_gates("default")
    per_name = {
        "dang-ky-xe:find_service": counts({20: 50}),
        "dang-ky-xe:login": counts({5: 40}, failures=40),
        "dang-ky-xe:otp": counts({5: 10}, failures=10),
        "dang-ky-xe:submit": counts({50: 10}, failures=9),
    }
    got = results(gates, per_name)
    for q in ("p95", "p99"):
        assert not got[f"latency.auth.{q}"].passed
        assert got[f"latency.auth.{q}"].note == "all 50 requests failed"
    assert "BROKEN (all 50 requests failed)" in got["latency.auth.p95"].sentence()
    assert got["latency.write.p95"].passed  # one success: the error ratio gate speaks for the rest
    assert got["latency.browse.p95"].passed
