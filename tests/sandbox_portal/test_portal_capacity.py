"""The capacity model: a real knee set by workers / service_time, not by this machine's CPU."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from portal_flows import session

from sandbox_portal.faults.capacity import CapacityPool


async def _burst(s: aiohttp.ClientSession, url: str, n: int) -> list[tuple[int, float]]:
    async def one() -> tuple[int, float]:
        t0 = time.perf_counter()
        async with s.get(url) as r:
            await r.read()
            return r.status, time.perf_counter() - t0

    return await asyncio.gather(*(one() for _ in range(n)))


async def test_latency_climbs_then_503_past_the_knee(sandbox_factory) -> None:
    # 2 workers × 0.05 s = 40 req/s, queue of 10
    sb = sandbox_factory(capacity_workers=2, service_time=0.05, capacity_queue=10)
    url = f"{sb.url}/api/v1/services"
    async with session() as s:
        async with s.get(f"{sb.url}/_sandbox/faults", headers={"Authorization": "Bearer test-token"}) as r:
            assert (await r.json())["capacity_rps"] == 40.0
        below = []
        for _ in range(5):  # one at a time: below the knee
            below += await _burst(s, url, 1)
        assert all(st == 200 for st, _ in below)
        above = await _burst(s, url, 40)  # 40 at once: far past the knee
    ok = sorted(t for st, t in above if st == 200)
    rejected = [st for st, _ in above if st == 503]
    assert rejected, "no 503 past the knee"
    assert len(ok) >= 10  # the workers and the queue were served
    # queued requests waited: the last served waited several service times longer than the first
    # (a difference, so the client's own overhead on a busy machine cancels out)
    assert ok[-1] - ok[0] >= 0.15
    assert ok[-1] >= 0.2


async def test_capacity_is_a_fault_scoped_like_the_others(sandbox_factory, tmp_path) -> None:
    f = tmp_path / "cap.yaml"
    f.write_text(
        "faults:\n  - kind: capacity\n    endpoint: /api/v1/services\n    workers: 1\n    service_time: 0.1\n    queue: 0\n"
    )
    sb = sandbox_factory(faults_path=f)
    async with session() as s:
        statuses = [st for st, _ in await _burst(s, f"{sb.url}/api/v1/services", 5)]
        health = [st for st, _ in await _burst(s, f"{sb.url}/api/v1/health", 20)]
        async with s.get(f"{sb.url}/api/v1/services") as r:
            retry = r.headers.get("Retry-After")
    assert statuses.count(200) == 1 and statuses.count(503) == 4
    assert set(health) == {200}
    assert retry is None  # alone, the request is served


async def test_the_pool_measures_what_it_delivered_never_more_than_its_model() -> None:
    """40 requests at once on 2 workers × 0.05 s (a model of 40 req/s): the pool is saturated and
    says so. Its handler takes another 0.05 s, as a starved machine's would, so it delivers at most
    half the model, and says that too."""
    pool = CapacityPool(workers=2, service_time=0.05, queue=100)
    assert pool.delivered_rps is None  # never saturated yet: no figure rather than a made-up one

    async def slow_work() -> None:
        await asyncio.sleep(0.05)

    await asyncio.gather(*(pool.run(slow_work) for _ in range(40)))
    described = pool.describe()
    assert described["saturated_seconds"] >= 1.0  # 40 × 0.1 s over 2 workers: at least 2 s
    assert pool.served_saturated >= 38  # all but the last in flight finished while others queued
    delivered = described["delivered_rps"]
    assert delivered is not None and 0 < delivered <= pool.rps / 2 * 1.02, described
