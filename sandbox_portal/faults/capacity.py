"""A bounded pool of back-end workers: the capacity model that gives load tests a real knee.

Each request holds one of `workers` slots for `service_time` seconds; when all are busy it waits in a
queue of at most `queue` requests, so past `workers / service_time` requests per second latency climbs
by the queueing delay, and once the queue is full new requests get 503 at once. The figures are the
model's, not this machine's CPU: 4 workers × 0.02 s = 200 req/s, far below what aiohttp serves here.

On a starved machine a slot is held longer than `service_time` (the handler's own work, a late
wake-up), so the pool also measures what it delivered: requests finished per second while every
worker was wanted. That, not the model's figure, is the capacity a load test could find that day.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Overloaded(Exception):
    """The queue is full: the portal answers 503 without doing the work."""


class CapacityPool:
    def __init__(self, workers: int, service_time: float, queue: int) -> None:
        self.workers = workers
        self.service_time = service_time
        self.queue = queue
        self.busy = 0
        self.waiting = 0
        self.rejected = 0
        self.saturated_seconds = 0.0
        self.served_saturated = 0
        self._since = time.monotonic()
        self._sem: asyncio.Semaphore | None = None

    @property
    def rps(self) -> float:
        return self.workers / self.service_time

    @property
    def saturated(self) -> bool:
        """Every worker wanted: busy, or the ones just freed already claimed by queued requests."""
        return self.busy + self.waiting >= self.workers

    def _tick(self) -> None:
        """Called before `busy` or `waiting` changes: the time since the last change counts as
        saturated when it was."""
        now = time.monotonic()
        if self.saturated:
            self.saturated_seconds += now - self._since
        self._since = now

    @property
    def delivered_rps(self) -> float | None:
        """Requests finished per second while saturated; None until it was saturated a full second."""
        if self.saturated_seconds < 1.0:
            return None
        return self.served_saturated / self.saturated_seconds

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.workers)
        if self._sem.locked() and self.waiting >= self.queue:
            self.rejected += 1
            raise Overloaded
        self._tick()
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self._tick()
            self.waiting -= 1
        self.busy += 1
        try:
            await asyncio.sleep(self.service_time)
            return await work()
        finally:
            self._tick()
            if self.saturated:
                self.served_saturated += 1
            self.busy -= 1
            self._sem.release()

    def describe(self) -> dict[str, float | int]:
        return {
            "workers": self.workers,
            "service_time": self.service_time,
            "queue": self.queue,
            "capacity_rps": round(self.rps, 3),
            "busy": self.busy,
            "waiting": self.waiting,
            "rejected": self.rejected,
            "saturated_seconds": round(self.saturated_seconds, 3),
            "delivered_rps": None if (rps := self.delivered_rps) is None else round(rps, 3),
        }
