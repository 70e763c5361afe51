"""Per-target schedules on one event loop, where a hanging target never delays the others.

Each target owns fixed-rate slots (`interval` apart, first slot spread over the interval by a hash of
its name, as Prometheus spreads scrapes) and fires at its slot plus a random jitter, so hundreds of
ward-office probers do not hit the portal in the same second. A probe runs in its own task under a
hard timeout and a concurrency semaphore; the scheduler only ever sleeps until the next slot. A slot
whose previous run is still going is *dropped* (counted, not queued), and a start later than
`late_after` past its fire time is *late*: together they say when the prober itself is the problem.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import random
import time
from collections.abc import Callable

import aiohttp

from probes.checks import TargetBase
from probes.config import ProbeConfig
from probes.metrics import ProbeMetrics
from probes.runner import Result, record, run_probe

log = logging.getLogger("dvcwatch.probes")


def spread(name: str, interval: float) -> float:
    """A stable offset within the interval, so restarts keep each target's phase."""
    h = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")
    return (h % 10_000) / 10_000 * interval


class Scheduler:
    def __init__(
        self,
        config: ProbeConfig,
        session: aiohttp.ClientSession,
        metrics: ProbeMetrics,
        *,
        on_result: Callable[[Result], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.session = session
        self.metrics = metrics
        self.on_result = on_result
        self.rng = rng or random.Random()
        self.config = config
        self.targets: dict[str, TargetBase] = {}
        self._generation: dict[str, int] = {}
        self._heap: list[tuple[float, int, str, int, float]] = []
        self._seq = 0
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._sem = asyncio.Semaphore(config.concurrency)
        self._started = False
        self._pending_config: ProbeConfig | None = config

    # -- configuration -------------------------------------------------------------------------

    def apply(self, config: ProbeConfig) -> None:
        """Swap in a new config without touching unchanged targets' slots or metrics."""
        self._pending_config = config
        self._wake.set()

    def _install(self, config: ProbeConfig) -> None:
        now = time.monotonic()
        new = {t.name: t for t in config.targets}
        for name, old in list(self.targets.items()):
            if name not in new or new[name].service != old.service:
                self._generation[name] = self._generation.get(name, 0) + 1
                self.metrics.forget(old.name, old.service)
                self.targets.pop(name)
        for name, t in new.items():
            old = self.targets.get(name)
            self.targets[name] = t
            if old is None or old.interval != t.interval:
                gen = self._generation[name] = self._generation.get(name, 0) + 1
                self._push(name, gen, now + spread(name, t.interval), t)
        if config.concurrency != self.config.concurrency:
            self._sem = asyncio.Semaphore(config.concurrency)
        self.config = config
        self.metrics.targets.labels(self.metrics.vantage).set(len(self.targets))

    def _push(self, name: str, gen: int, slot: float, t: TargetBase) -> None:
        fire = slot + self.rng.uniform(0, t.jitter * t.interval)
        self._seq += 1
        heapq.heappush(self._heap, (fire, self._seq, name, gen, slot))

    # -- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                if self._pending_config is not None:
                    self._install(self._pending_config)
                    self._pending_config = None
                self._fire_due()
                delay = (self._heap[0][0] - time.monotonic()) if self._heap else 3600.0
                if delay > 0:
                    self._wake.clear()
                    waker = asyncio.ensure_future(self._wake.wait())
                    await asyncio.wait({waker, stopper}, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
                    waker.cancel()
        finally:
            stopper.cancel()
            for task in list(self._running.values()):
                task.cancel()
            if self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)

    def _fire_due(self) -> None:
        now = time.monotonic()
        while self._heap and self._heap[0][0] <= now:
            fire, _, name, gen, slot = heapq.heappop(self._heap)
            if self._generation.get(name) != gen or name not in self.targets:
                continue  # removed or rescheduled by a reload
            t = self.targets[name]
            self._push(name, gen, slot + t.interval, t)
            if name in self._running:
                self.metrics.dropped.labels(self.metrics.vantage).inc()
                continue
            task = asyncio.create_task(self._probe(name, fire, t))
            self._running[name] = task
            task.add_done_callback(lambda _t, n=name: self._running.pop(n, None))

    async def _probe(self, name: str, fire: float, t: TargetBase) -> None:
        async with self._sem:
            waited = time.monotonic() - fire
            if waited > t.interval:
                self.metrics.dropped.labels(self.metrics.vantage).inc()
                return
            if waited > self.config.late_after:
                self.metrics.late.labels(self.metrics.vantage).inc()
            result = await run_probe(t, self.session)
        current = self.targets.get(name)
        if current is None or current.service != t.service:
            return  # removed while it ran: do not resurrect its series
        record(self.metrics, result)
        if not result.success:
            log.debug("%s: %s", name, result.observation.failure)
        if self.on_result:
            self.on_result(result)
