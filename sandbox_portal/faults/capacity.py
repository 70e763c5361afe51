"""A bounded pool of back-end workers: the capacity model that gives load tests a real knee.

Each request holds one of `workers` slots for `service_time` seconds; when all are busy it waits in a
queue of at most `queue` requests, so past `workers / service_time` requests per second latency climbs
by the queueing delay, and once the queue is full new requests get 503 at once. The figures are the
model's, not this machine's CPU: 4 workers × 0.02 s = 200 req/s, far below what aiohttp serves here.
"""

from __future__ import annotations

import asyncio
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
        self._sem: asyncio.Semaphore | None = None

    @property
    def rps(self) -> float:
        return self.workers / self.service_time

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.workers)
        if self._sem.locked() and self.waiting >= self.queue:
            self.rejected += 1
            raise Overloaded
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1
        self.busy += 1
        try:
            await asyncio.sleep(self.service_time)
            return await work()
        finally:
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
        }
