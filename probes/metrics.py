"""Every metric the prober exports, defined once (names per docs/contracts.md §7).

Two kinds live here. The prober's own health (`dvc_prober_*`: a handful of series) uses
prometheus-client objects. The per-target families (`dvc_probe_*`) hold one series set per target,
and a prober at a district data centre may hold thousands of targets: rendered by prometheus-client
they cost seconds of CPU per scrape (~130 000 lines for 2 000 targets), long enough to make probes
late. So each target keeps its latest values and histogram counts in a `TargetSeries`, whose label
string is escaped once, and `exposition()` writes the text directly. The same data is also offered
to prometheus-client through a custom collector, so `generate_latest(registry)` and pushes work too.

Labels are bounded: the config's target names, catalog service ids, the vantage, and the fixed phase
and step vocabularies. The objects are bound to one registry (not module-level) so that several
probers can run in one process (tests, the benchmark).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from probes.phases import PHASES

TARGET_LABELS = ("target", "service", "vantage")
ALL_PHASES = (*PHASES, "total")
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# name, help: the per-target gauges, in exposition order
GAUGES: dict[str, str] = {
    "dvc_probe_success": "1 if the last probe succeeded (status, content, latency budget), else 0",
    "dvc_probe_http_status_code": "HTTP status of the last probe's final answer; 0 when there was none",
    "dvc_probe_content_match": "1 if the content was as required (no error banner, expected text present), else 0",
    "dvc_probe_tls_expiry_timestamp_seconds": "notAfter of the peer certificate, Unix time",
    "dvc_probe_last_run_timestamp_seconds": "When the last probe of the target finished, Unix time",
    "dvc_probe_latency_budget_exceeded": "1 if the last probe took longer than its latency budget, else 0",
}
GAUGE_ATTRS = dict(
    zip(
        GAUGES,
        ("success", "status_code", "content_match", "tls_expiry", "last_run", "budget_exceeded"),
        strict=True,
    )
)
FAILED_STEP = ("dvc_probe_failed_step", "1 on the step where a multi-step API probe failed, 0 on the others")
DURATION = ("dvc_probe_duration_seconds", "Probe duration by phase: dns, connect, tls, ttfb, transfer, total")
_LE = [floatToGoString(b) for b in DURATION_BUCKETS] + ["+Inf"]


@dataclass(frozen=True)
class Values:
    """What one probe's result exports, decided once (`probes.runner.values`) for `/metrics` and
    `/probe` alike. None: not exported this time (a series already exported keeps its last value)."""

    success: float
    status_code: float
    content_match: float | None = None
    tls_expiry: float | None = None
    budget_exceeded: float | None = None
    failed_step: dict[str, float] = field(default_factory=dict)


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


@dataclass
class TargetSeries:
    """The latest values and the duration histograms of one target; None means not exported."""

    target: str
    service: str
    vantage: str
    success: float | None = None
    status_code: float | None = None
    content_match: float | None = None
    tls_expiry: float | None = None
    last_run: float | None = None
    budget_exceeded: float | None = None
    failed_step: dict[str, float] = field(default_factory=dict)
    buckets: dict[str, list[int]] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)
    label_text: str = ""

    def __post_init__(self) -> None:
        self.label_text = ",".join(
            f'{k}="{_escape(v)}"'
            for k, v in zip(TARGET_LABELS, (self.target, self.service, self.vantage), strict=True)
        )

    def apply(self, values: Values) -> None:
        self.success, self.status_code = values.success, values.status_code
        for attr in ("content_match", "tls_expiry", "budget_exceeded"):
            if (v := getattr(values, attr)) is not None:
                setattr(self, attr, v)
        if values.failed_step:
            self.failed_step = dict(values.failed_step)

    def observe(self, phase: str, seconds: float) -> None:
        counts = self.buckets.get(phase)
        if counts is None:
            counts = self.buckets[phase] = [0] * (len(DURATION_BUCKETS) + 1)
            self.sums[phase] = 0.0
        i = 0
        while i < len(DURATION_BUCKETS) and seconds > DURATION_BUCKETS[i]:
            i += 1
        counts[i] += 1
        self.sums[phase] += seconds

    def cumulative(self, phase: str) -> list[int]:
        out, running = [], 0
        for c in self.buckets[phase]:
            running += c
            out.append(running)
        return out


def _num(v: float) -> str:
    if type(v) is float and -1e6 < v < 1e6:
        return repr(v)  # what both forms below give there, at a tenth of the cost (phases, statuses)
    return (
        floatToGoString(v)
        if not (isinstance(v, float) and math.isfinite(v) and v.is_integer())
        else f"{v:.1f}"
    )


class _TargetCollector(Collector):
    def __init__(self, metrics: ProbeMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        series = list(self.metrics.series_all())
        for name, help_text in GAUGES.items():
            fam = GaugeMetricFamily(name, help_text, labels=TARGET_LABELS)
            attr = GAUGE_ATTRS[name]
            for s in series:
                v = getattr(s, attr)
                if v is not None:
                    fam.add_metric([s.target, s.service, s.vantage], v)
            yield fam
        fam = GaugeMetricFamily(*FAILED_STEP, labels=(*TARGET_LABELS, "step"))
        for s in series:
            for step, v in s.failed_step.items():
                fam.add_metric([s.target, s.service, s.vantage, step], v)
        yield fam
        hist = HistogramMetricFamily(*DURATION, labels=(*TARGET_LABELS, "phase"))
        for s in series:
            for phase in ALL_PHASES:
                if phase in s.buckets:
                    cum = s.cumulative(phase)
                    hist.add_metric(
                        [s.target, s.service, s.vantage, phase],
                        list(zip(_LE, cum, strict=True)),
                        s.sums[phase],
                    )
        yield hist


class ProbeMetrics:
    def __init__(self, registry: CollectorRegistry, vantage: str) -> None:
        self.registry = registry
        self.vantage = vantage
        self._series: dict[tuple[str, str], TargetSeries] = {}
        self.health = CollectorRegistry()
        h = self.health
        self.probes = Counter("dvc_prober_probes", "Probes run, by result", ("vantage", "result"), registry=h)
        self.late = Counter(
            "dvc_prober_probes_late",
            "Probes that started later than late_after past their slot",
            ("vantage",),
            registry=h,
        )
        self.dropped = Counter(
            "dvc_prober_probes_dropped",
            "Probe slots skipped: the previous run was still going or the slot passed while waiting",
            ("vantage",),
            registry=h,
        )
        self.targets = Gauge(
            "dvc_prober_targets", "Targets in the running configuration", ("vantage",), registry=h
        )
        self.reloads = Counter(
            "dvc_prober_config_reloads", "Configuration reloads, by result", ("vantage", "result"), registry=h
        )
        self.reload_ok = Gauge(
            "dvc_prober_config_last_reload_successful",
            "1 if the last configuration load or reload was applied, 0 if it was rejected and the "
            "previous configuration keeps running",
            ("vantage",),
            registry=h,
        )
        self.reload_ok_at = Gauge(
            "dvc_prober_config_last_reload_success_timestamp_seconds",
            "When the running configuration was loaded, Unix time",
            ("vantage",),
            registry=h,
        )
        for result in ("success", "failure"):
            self.probes.labels(vantage, result)
            self.reloads.labels(vantage, result)
        self.late.labels(vantage)
        self.dropped.labels(vantage)
        registry.register(_HealthCollector(h))
        registry.register(_TargetCollector(self))

    def config_loaded(self, ok: bool) -> None:
        """Like Prometheus' own `..._config_last_reload_successful`: an alert on 0 catches a rejected
        reload, which otherwise only shows as a log line while the old config keeps running."""
        self.reload_ok.labels(self.vantage).set(1 if ok else 0)
        if ok:
            self.reload_ok_at.labels(self.vantage).set_to_current_time()

    def series(self, target: str, service: str) -> TargetSeries:
        s = self._series.get((target, service))
        if s is None:
            s = self._series[(target, service)] = TargetSeries(target, service, self.vantage)
        return s

    def series_all(self) -> Iterator[TargetSeries]:
        return iter(list(self._series.values()))

    def forget(self, target: str, service: str) -> None:
        """Drop a removed target's series so dashboards do not show a ghost forever."""
        self._series.pop((target, service), None)

    def exposition(self) -> bytes:
        """The whole /metrics text; tens of milliseconds for thousands of targets."""
        out: list[str] = [generate_latest(self.health).decode()]
        series = list(self._series.values())
        for name, help_text in GAUGES.items():
            attr = GAUGE_ATTRS[name]
            out.append(f"# HELP {name} {help_text}\n# TYPE {name} gauge\n")
            out.extend(
                f"{name}{{{s.label_text}}} {_num(v)}\n" for s in series if (v := getattr(s, attr)) is not None
            )
        name = FAILED_STEP[0]
        out.append(f"# HELP {name} {FAILED_STEP[1]}\n# TYPE {name} gauge\n")
        for s in series:
            out.extend(
                f'{name}{{{s.label_text},step="{step}"}} {_num(v)}\n' for step, v in s.failed_step.items()
            )
        name = DURATION[0]
        out.append(f"# HELP {name} {DURATION[1]}\n# TYPE {name} histogram\n")
        for s in series:
            for phase in ALL_PHASES:
                if phase not in s.buckets:
                    continue
                lbl = f'{s.label_text},phase="{phase}"'
                cum = s.cumulative(phase)
                out.extend(
                    f'{name}_bucket{{{lbl},le="{le}"}} {c}.0\n' for le, c in zip(_LE, cum, strict=True)
                )
                out.append(f"{name}_count{{{lbl}}} {cum[-1]}.0\n{name}_sum{{{lbl}}} {_num(s.sums[phase])}\n")
        return "".join(out).encode()


class _HealthCollector(Collector):
    """Exposes the health registry's metrics through the main registry as well."""

    def __init__(self, health: CollectorRegistry) -> None:
        self.health = health

    def collect(self) -> Iterator[Metric]:
        yield from self.health.collect()


PROBE_ENDPOINT_HELP = {
    "probe_success": "blackbox_exporter-compatible: 1 if the probe succeeded",
    "probe_duration_seconds": "blackbox_exporter-compatible: total probe duration",
    "dvc_probe_phase_duration_seconds": "Duration of this probe by phase",
}


def _header(name: str, help_text: str) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} gauge\n"


_PROBE_HEADERS = {
    name: _header(name, help_text)
    for name, help_text in (
        *PROBE_ENDPOINT_HELP.items(),
        *((n, GAUGES[n]) for n in GAUGES),
        FAILED_STEP,
    )
}
"""Each `/probe` family's HELP and TYPE lines, written once per module rather than per answer."""
_OPTIONAL = (
    ("dvc_probe_content_match", "content_match"),
    ("dvc_probe_tls_expiry_timestamp_seconds", "tls_expiry"),
    ("dvc_probe_latency_budget_exceeded", "budget_exceeded"),
)


def probe_exposition(*, vantage: str, values: Values, phases: dict[str, float]) -> bytes:
    """The text of one `/probe` answer, as blackbox_exporter returns a fresh registry per probe.

    `probe_success` and `probe_duration_seconds` keep blackbox_exporter's names on purpose: alerts and
    dashboards written for it then work unchanged against this prober. Written directly, from HELP and
    TYPE lines built once per module, rather than through a throw-away prometheus-client registry, which
    costs as much CPU as the probe itself."""
    h = _PROBE_HEADERS
    v = f'vantage="{_escape(vantage)}"'
    success = _num(float(values.success))
    out = [
        h["probe_success"],
        f"probe_success {success}\n",
        h["probe_duration_seconds"],
        f"probe_duration_seconds {_num(float(phases.get('total', 0.0)))}\n",
        h["dvc_probe_success"],
        f"dvc_probe_success{{{v}}} {success}\n",
        h["dvc_probe_phase_duration_seconds"],
    ]
    out.extend(
        f'dvc_probe_phase_duration_seconds{{phase="{p}",{v}}} {_num(float(sec))}\n'
        for p, sec in phases.items()
    )
    out.append(h["dvc_probe_http_status_code"])
    out.append(f"dvc_probe_http_status_code{{{v}}} {_num(float(values.status_code))}\n")
    for name, attr in _OPTIONAL:
        value = getattr(values, attr)
        if value is not None:
            out.append(h[name])
            out.append(f"{name}{{{v}}} {_num(float(value))}\n")
    if values.failed_step:
        name = FAILED_STEP[0]
        out.append(h[name])
        out.extend(
            f'{name}{{step="{step}",{v}}} {_num(float(x))}\n' for step, x in values.failed_step.items()
        )
    return "".join(out).encode()
