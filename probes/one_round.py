"""Probe every target once: the CI gate and the operator's quick look (`dvcwatch probe --once`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dvcwatch.core.politeness import Politeness
from probes.config import ProbeConfig
from probes.runner import Result, new_session, run_probe


async def probe_all(config: ProbeConfig, on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """All targets concurrently (bounded by `concurrency`), results in config order."""
    sem = asyncio.Semaphore(config.concurrency)
    async with new_session(politeness=Politeness(config.politeness)) as session:

        async def one(target) -> Result:  # type: ignore[no-untyped-def]
            async with sem:
                result = await run_probe(target, session)
            if on_result:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(t) for t in config.targets)))
