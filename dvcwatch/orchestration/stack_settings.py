"""What a local monitoring stack is set to: its intervals (production's by default, a demo's or a test's
shortened), its wards and its run folder. Apart from the stack that runs them, so commands and
benchmarks can build settings without the supervisor."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dvcwatch.core.errors import DvcwatchError
from dvcwatch.core.yamlconfig import parse_duration

DEFAULT_RUN_DIR = Path("runs/stack")
CENTRAL_VANTAGE = "trung-tam"


class StackError(DvcwatchError):
    pass


@dataclass
class StackSettings:
    """Intervals default to what a real deployment would use; tests shorten them.

    Probes, scrapes and evaluations every 5 s, so that the alerts' one-interval `for:` means two
    consecutive probe rounds and a hang pages in under 30 s (docs/performance.md "Paging"). The probe
    timeout stays a second short of the interval: a hung probe ends before its next slot (plus up
    to 10 % jitter) would start, so a hang yields a failure every round instead of dropped slots."""

    run_dir: Path = DEFAULT_RUN_DIR
    scrape_interval: str = "5s"
    evaluation_interval: str = "5s"
    probe_interval: float = 5.0
    probe_timeout: float = 4.0
    slo: Path | None = None
    alertmanager_timings: dict[str, str] = field(default_factory=dict)
    wards: list[str] = field(default_factory=list)
    vantage: str = CENTRAL_VANTAGE
    sandbox_args: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self.sandbox_args = list(self.sandbox_args)
        if self.probe_timeout > self.probe_interval:
            raise StackError(
                f"probe timeout ({self.probe_timeout:g} s) is longer than the interval ({self.probe_interval:g} s)"
            )


# Demo/test timing: alerts within seconds instead of a minute. Never for a real portal: a 1-second
# `for:` with 2 s probes no longer waits for a second probe round. Each `for:` is divided by the same
# factor, so their order holds: the portal-down alert (5 s) still fires before the per-service ones it
# inhibits (1 m), as in production.
# (All at 4 s, a per-service alert could reach Alertmanager first on a busy machine and page.)
FAST_FOR_DIVISOR = 7.5
FAST_ALERTMANAGER = {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}


def fast_settings(run_dir: Path, **overrides: Any) -> StackSettings:
    """Settings for demos and tests: 1 s scrapes and evaluations, 2 s probes, `for:` 7.5 times shorter.

    The rules come from a copy of the SLO file with only the `for:` durations shortened, so what is
    tested is the committed logic, not a look-alike."""
    from alerts import SLO_PATH

    run_dir = Path(run_dir)
    data = yaml.safe_load(Path(overrides.get("slo") or SLO_PATH).read_text(encoding="utf-8"))
    for key in ("portal_down", "vantage_down", "service_probe_failing", "soft_failure", "prober"):
        data[key]["for"] = _fast_for(data[key]["for"])
    data["prober"]["stale_after"] = "30s"
    slo = run_dir / "fast-slo.yaml"
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        slo.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    except OSError as exc:
        raise unusable_run_dir(run_dir, exc) from None
    base: dict[str, Any] = {
        "run_dir": run_dir,
        "scrape_interval": "1s",
        "evaluation_interval": "1s",
        "probe_interval": 2.0,
        "probe_timeout": 1.0,
        "alertmanager_timings": dict(FAST_ALERTMANAGER),
    }
    return StackSettings(**{**base, **overrides, "slo": slo})


def _fast_for(value: str) -> str:
    return f"{max(1, round(float(parse_duration(value)) / FAST_FOR_DIVISOR))}s"


def unusable_run_dir(run_dir: Path, exc: OSError) -> StackError:
    return StackError(f"cannot use the run folder {run_dir}: {exc.strerror or exc}")
