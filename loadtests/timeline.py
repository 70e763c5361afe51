"""The run second by second: users, throughput, errors and latency percentiles, tagged by stage.

Runs on the master (or the single local process) as a greenlet, sampling Locust's aggregated
statistics every `analysis.sample_seconds`. Each sample keeps the window's counts per step class
and for the whole portal, which is all the report needs to judge each stage after the run.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loadtests.counts import Counts, by_step_class, load_total, merged, snapshot, window


@dataclass
class Sample:
    t: float
    seconds: float
    users: int
    stage: int | None
    total: Counts
    classes: dict[str, Counts]

    def row(self) -> dict[str, Any]:
        s = self.seconds or 1.0

        def ms(q: float) -> float | None:
            v = self.total.percentile_seconds(q)
            return None if v is None else round(v, 4)

        return {
            "t": round(self.t, 2),
            "users": self.users,
            "stage": self.stage,
            "requests_per_second": round(self.total.requests / s, 3),
            "failures_per_second": round(self.total.failures / s, 3),
            "p50": ms(0.5),
            "p95": ms(0.95),
            "p99": ms(0.99),
        }


@dataclass
class Timeline:
    stats: Any
    step_classes: Mapping[str, list[str]]
    users: Callable[[], int]
    stage_at: Callable[[float], int | None]
    rolling_samples: int = 10
    samples: list[Sample] = field(default_factory=list)
    started: float | None = None
    _last: dict[str, Counts] = field(default_factory=dict)
    _last_time: float = 0.0
    recent: deque[dict[str, Counts]] = field(default_factory=deque)
    listeners: list[Callable[[Sample, dict[str, Counts]], None]] = field(default_factory=list)

    def start(self) -> None:
        self.samples.clear()
        self.recent.clear()
        self.started = time.monotonic()
        self._last_time = self.started
        self._last = snapshot(self.stats)

    def sample(self) -> Sample | None:
        if self.started is None:
            return None
        now = time.monotonic()
        current = snapshot(self.stats)
        per_name = window(current, self._last)
        t = now - self.started
        s = Sample(
            t=t,
            seconds=now - self._last_time,
            users=self.users(),
            stage=self.stage_at(t),
            total=load_total(per_name),
            classes=by_step_class(per_name, self.step_classes),
        )
        self._last, self._last_time = current, now
        self.samples.append(s)
        self.recent.append(per_name)
        while len(self.recent) > self.rolling_samples:
            self.recent.popleft()
        for listener in self.listeners:
            listener(s, per_name)
        return s

    def recent_per_name(self) -> dict[str, Counts]:
        """Counts per request name over the last few samples, for live percentiles and rates."""
        out: dict[str, Counts] = {}
        for per_name in self.recent:
            for name, c in per_name.items():
                out.setdefault(name, Counts()).add(c)
        return out

    def recent_seconds(self) -> float:
        n = len(self.recent)
        return sum(s.seconds for s in self.samples[-n:]) if n else 0.0

    def run(self, interval: float) -> None:
        """The sampling loop (a greenlet): ends when the greenlet is killed."""
        import gevent

        while True:
            gevent.sleep(interval)
            self.sample()


def aggregate(samples: list[Sample]) -> tuple[Counts, dict[str, Counts], float]:
    total = merged(s.total for s in samples)
    classes: dict[str, Counts] = {}
    for s in samples:
        for cls, c in s.classes.items():
            classes.setdefault(cls, Counts()).add(c)
    return total, classes, sum(s.seconds for s in samples)
