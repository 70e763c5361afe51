"""Run one probe under a hard timeout and record what it saw.

The runner, not the check, owns the timeout, the total duration, the latency budget and the metrics
(as blackbox_exporter's handler owns `probe_success`): a hanging portal costs exactly one timeout,
and a new kind of check cannot forget to report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import aiohttp

from dvcwatch.core.politeness import Politeness
from probes.checks import CheckContext, Observation, TargetBase, lean_http
from probes.kinds import KINDS
from probes.metrics import ProbeMetrics, Values
from probes.phases import CURRENT, PHASES, PhaseTimer, trace_config
from probes.selfguard import REFUSED, OwnAddresses

log = logging.getLogger("dvcwatch.probes")


@dataclass
class Result:
    target: TargetBase
    observation: Observation
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase that happened, plus `total`."""
    budget_exceeded: bool | None = None
    finished_at: float = 0.0

    @property
    def success(self) -> bool:
        return self.observation.success


def new_session(
    limit: int = 0, politeness: Politeness | None = None, own: OwnAddresses | None = None
) -> aiohttp.ClientSession:
    """One client session per prober: a fresh connection per probe (`force_close`) so connect and TLS
    are measured every time as a citizen's first request would pay them, and no DNS cache, so a
    failing resolver at the ward shows up. Timeouts are the runner's, not aiohttp's.

    Requests to hosts that are not loopback wait for their turn under the politeness limits (about
    one a second per host by default) and honour `Retry-After`; the User-Agent says who is probing.
    A listening prober passes its `own` addresses: no connection is ever made to them."""
    polite = politeness or Politeness()
    connector = aiohttp.TCPConnector(
        force_close=True,
        use_dns_cache=False,
        limit=limit,
        socket_factory=own.socket_factory if own is not None else None,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        trace_configs=[trace_config(polite)],
        timeout=aiohttp.ClientTimeout(total=None),
        headers={"User-Agent": polite.user_agent},
        auto_decompress=True,
    )
    lean_http.register(session, lean_http.LeanClient(polite, own, {"User-Agent": polite.user_agent}))
    return session


async def run_probe(
    target: TargetBase, session: aiohttp.ClientSession, timeout: float | None = None
) -> Result:
    timer = PhaseTimer(same_origin_only=bool(target.secrets()))
    token = CURRENT.set(timer)
    limit = timeout if timeout is not None else target.timeout
    ctx = CheckContext(session, timer)
    try:
        async with asyncio.timeout(limit):
            obs = await KINDS[target.kind].check(target, ctx)  # type: ignore[attr-defined]
    except TimeoutError:
        obs = ctx.observation
        obs.status_code = None  # no final answer came, whatever earlier steps answered
        step = obs.current_step
        obs.fail(f"{step}: timeout after {limit:g} s" if step else f"timeout after {limit:g} s", step)
    finally:
        CURRENT.reset(token)
    if obs.failure.endswith(REFUSED):
        log.warning("%s (%s): %s", target.name, target.url, obs.failure)
    total = timer.elapsed()
    phases = {p: timer.totals[p] for p in PHASES if timer.totals[p] > 0}
    phases["total"] = total
    budget = target.latency_budget_seconds
    exceeded = None if budget is None else total > budget
    if exceeded and obs.success:
        obs.fail(f"slow: {total:.2f} s over the {budget:g} s budget")
    return Result(target, obs, phases, exceeded, time.time())


def values(result: Result) -> Values:
    """What a result exports, one rule for `/metrics` and `/probe`: `content_match` for every target
    whose kind judges content (0 when the probe failed before the content was seen), the failed step
    for kinds that walk steps (docs/probes.md)."""
    t, obs = result.target, result.observation
    return Values(
        success=float(obs.success),
        status_code=float(obs.status_code or 0),
        content_match=float(bool(obs.content_match)) if t.has_content_rule() else None,
        tls_expiry=obs.tls_expiry,
        budget_exceeded=None if result.budget_exceeded is None else float(result.budget_exceeded),
        failed_step={step: float(step == obs.failed_step) for step in t.steps},
    )


def record(metrics: ProbeMetrics, result: Result) -> None:
    t, obs = result.target, result.observation
    s = metrics.series(t.name, t.service)
    s.apply(values(result))
    for phase, seconds in result.phases.items():
        s.observe(phase, seconds)
    s.last_run = result.finished_at
    metrics.probes.labels(metrics.vantage, "success" if obs.success else "failure").inc()
