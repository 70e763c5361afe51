"""From what happened at each step to one word a leader reads: pass, degraded, fail or error.

`degraded` exists because "it worked" can still be a broken promise: a fully-online (toàn trình)
service that ends with "come to the office" delivered only a partly-online one, and a journey far
slower than its budget is one a citizen gives up on. A fee charged other than the published one
(`fee_published`: None where the amount depends on the case) is a broken promise too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Judgement:
    verdict: str
    reasons: list[str]


def judge(
    *,
    failed: bool,
    harness_error: bool,
    level_promised: str,
    level_delivered: str | None,
    submit_seconds: float | None,
    service_budget_seconds: float,
    persona_budget_seconds: float,
    fee_published: int | None = None,
    fee_charged: int | None = None,
) -> Judgement:
    if harness_error:
        return Judgement("error", [])
    if failed:
        return Judgement("fail", [])
    reasons: list[str] = []
    if level_promised == "full" and level_delivered == "partial":
        reasons.append("level_shortfall")
    if submit_seconds is not None:
        if submit_seconds > service_budget_seconds:
            reasons.append("over_service_budget")
        if submit_seconds > persona_budget_seconds:
            reasons.append("over_persona_budget")
    if fee_published is not None and fee_charged is not None and fee_charged != fee_published:
        reasons.append("fee_differs")  # citizens overcharged, or the catalog is stale: either is news
    return Judgement("degraded" if reasons else "pass", reasons)
