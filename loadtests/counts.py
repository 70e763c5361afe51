"""Request counts and latency histograms over a window of time, read from Locust's statistics.

Locust keeps, per request name, cumulative counts and a histogram of response times in rounded
milliseconds; it aggregates the workers' numbers on the master. Subtracting two snapshots gives what
happened in between, in local and distributed mode alike, which is all the timeline, the gates and
the knee need. Names that start with `_` are the harness's own requests (the sandbox's OTP inbox):
they load the target like any other, but belong to no step class and carry no metric labels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

HARNESS_PREFIX = "_"


@dataclass
class Counts:
    """Requests, failures and a latency histogram (milliseconds → count)."""

    requests: int = 0
    failures: int = 0
    times: Counter[int] = field(default_factory=Counter)

    def add(self, other: Counts) -> Counts:
        self.requests += other.requests
        self.failures += other.failures
        self.times.update(other.times)
        return self

    def minus(self, earlier: Counts) -> Counts:
        times = Counter(self.times)
        times.subtract(earlier.times)
        return Counts(
            self.requests - earlier.requests,
            self.failures - earlier.failures,
            Counter({k: v for k, v in times.items() if v > 0}),
        )

    @property
    def successes(self) -> int:
        return self.requests - self.failures

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def percentile_seconds(self, q: float) -> float | None:
        """The q-quantile of the latencies, in seconds; None with no requests."""
        total = sum(self.times.values())
        if total <= 0:
            return None
        rank = q * total
        seen = 0
        for ms in sorted(self.times):
            seen += self.times[ms]
            if seen >= rank:
                return ms / 1000.0
        return max(self.times) / 1000.0


def merged(parts: Iterable[Counts]) -> Counts:
    out = Counts()
    for p in parts:
        out.add(p)
    return out


def split_name(name: str) -> tuple[str, str]:
    """`dang-ky-khai-sinh:submit` → (service, step); a name without a colon has no service. A recorded
    flow's request adds its label after a space (`dang-ky-khai-sinh:submit POST /ho-so/{code}/nop`,
    loadtests.flow_user): service and step are read from the part before it."""
    service, _, step = name.split(" ", 1)[0].rpartition(":")
    return service, step


def is_portal(name: str) -> bool:
    return not name.startswith(HARNESS_PREFIX) and name != "Aggregated"


def snapshot(stats: Any) -> dict[str, Counts]:
    """Cumulative counts per request name from a `locust.stats.RequestStats`."""
    out: dict[str, Counts] = {}
    for (name, _method), entry in list(stats.entries.items()):
        c = out.setdefault(name, Counts())
        c.requests += entry.num_requests
        c.failures += entry.num_failures
        c.times.update(entry.response_times)
    return out


def window(now: Mapping[str, Counts], before: Mapping[str, Counts]) -> dict[str, Counts]:
    """What happened between two snapshots, per request name."""
    empty = Counts()
    return {name: c.minus(before.get(name, empty)) for name, c in now.items()}


def by_step_class(per_name: Mapping[str, Counts], classes: Mapping[str, Iterable[str]]) -> dict[str, Counts]:
    step_to_class = {step: cls for cls, steps in classes.items() for step in steps}
    out = {cls: Counts() for cls in classes}
    for name, c in per_name.items():
        if not is_portal(name):
            continue
        cls = step_to_class.get(split_name(name)[1])
        if cls:
            out[cls].add(c)
    return out


def load_total(per_name: Mapping[str, Counts]) -> Counts:
    """Every request the target served, the harness's OTP lookups included: they use its capacity
    too. Latency gates, which speak for citizens, look only at the step classes."""
    return merged(c for name, c in per_name.items() if name != "Aggregated")
