"""`dvcwatch rehearse`: the harness proves itself before anyone trusts it.

A seeded random campaign of faults is placed in the sandbox, the mystery shopper and the prober run
against it, and each instrument's findings are scored against what was placed: found at the right
service and step, found at the wrong step, missed, or a false alarm on a healthy service. An
instrument is only held to what it can observe: a prober that never submits a dossier is not blamed
for missing a broken submit step, but it must see a broken service page.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dvcwatch.core.catalog import Catalog, load_catalog
from dvcwatch.core.yamlconfig import load_model
from dvcwatch.orchestration.subcommand_process import TIMED_OUT, run_dvcwatch

POOL_PATH = Path(__file__).with_name("scenarios") / "rehearse.yaml"

# What the generated probe set (`dvcwatch probe --from-catalog`) observes: each service's page
# (find_service) and its form schema (form), plus the login→OTP→form API flow of one service.
PROBE_PAGE_STEPS = ("find_service", "form")
PROBE_FLOW_STEPS = ("login", "otp", "form")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PoolEntry(Strict):
    kind: str
    steps: list[str | None]
    needs: Literal["fee", "full"] | None = None
    params: dict[str, list[Any]] = {}


class Pool(Strict):
    version: Literal[1]
    faults_per_campaign: int = Field(5, ge=1, le=25)
    step_timeout_seconds: float = 8
    pool: list[PoolEntry]


# Behavioural faults are placed without a step (the sandbox applies them where they belong) and show
# at this step of the journey.
IMPLIED_STEP = {"otp_lost": "otp", "payment_failed": "payment"}


@dataclass(frozen=True)
class PlacedFault:
    service: str
    kind: str
    step: str | None
    params: dict[str, Any]

    def as_fault(self) -> dict[str, Any]:
        f: dict[str, Any] = {"kind": self.kind, "service": self.service, **self.params}
        if self.step and self.kind not in IMPLIED_STEP:
            f["step"] = self.step
        return f

    @property
    def expected_verdict(self) -> str:
        return "degraded" if self.kind == "downgrade" else "fail"


def campaign(seed: int, catalog: Catalog, pool: Pool, count: int | None = None) -> list[PlacedFault]:
    """K distinct services, each with one fault it can carry; the same seed gives the same campaign."""
    rng = random.Random(seed)
    n = count or pool.faults_per_campaign
    services = rng.sample(list(catalog.services), k=min(n, len(catalog.services)))
    placed = []
    for svc in services:
        fits = [
            e
            for e in pool.pool
            if (e.needs != "fee" or svc.charges_fee) and (e.needs != "full" or svc.level == "full")
        ]
        entry = rng.choice(fits)
        params = {k: rng.choice(v) for k, v in entry.params.items()}
        placed.append(PlacedFault(svc.id, entry.kind, rng.choice(entry.steps), params))
    return placed


@dataclass
class Matrix:
    """One instrument's confusion matrix over the 25 services."""

    instrument: str
    found: list[str] = field(default_factory=list)
    wrong_step: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    quiet_ok: int = 0
    out_of_scope: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.wrong_step or self.missed or self.false_alarms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "found": self.found,
            "wrong_step": self.wrong_step,
            "missed": self.missed,
            "false_alarms": self.false_alarms,
            "healthy_and_quiet": self.quiet_ok,
            "not_observable": self.out_of_scope,
            "clean": self.clean,
        }


def score_journeys(placed: list[PlacedFault], results: list[dict[str, Any]]) -> Matrix:
    m = Matrix("journeys")
    by_service = {f.service: f for f in placed}
    for r in results:
        svc = r["service"]
        f = by_service.get(svc)
        if f is None:
            if r["verdict"] == "pass":
                m.quiet_ok += 1
            else:
                m.false_alarms.append(f"{svc}: {r['verdict']} at {r.get('failed_step')}")
            continue
        if r["verdict"] != f.expected_verdict:
            m.missed.append(f"{svc}: {f.kind}@{f.step} placed, journey said {r['verdict']}")
        elif f.expected_verdict == "fail" and r.get("failed_step") != f.step:
            m.wrong_step.append(f"{svc}: {f.kind}@{f.step} placed, journey failed at {r.get('failed_step')}")
        else:
            m.found.append(f"{svc}: {f.kind}@{f.step or '-'}")
    seen = {r["service"] for r in results}
    m.missed += [f"{f.service}: no journey result" for f in placed if f.service not in seen]
    return m


def probe_observes(f: PlacedFault, flow_service: str | None) -> bool:
    if f.kind in ("otp_lost",):
        return f.service == flow_service
    if f.kind in ("payment_failed", "downgrade"):
        return False
    if f.step in PROBE_PAGE_STEPS:
        return True
    return f.service == flow_service and f.step in PROBE_FLOW_STEPS


def score_probes(placed: list[PlacedFault], results: list[dict[str, Any]], catalog: Catalog) -> Matrix:
    """`results`: [{name, service, success, failed_step, kind}] from one `--once` round."""
    m = Matrix("probes")
    flow_service = next((r["service"] for r in results if r["kind"] == "api_flow"), None)
    by_service: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_service.setdefault(r.get("service") or "", []).append(r)
    placed_by = {f.service: f for f in placed}
    for svc in catalog.services:
        failing = [r for r in by_service.get(svc.id, []) if not r["success"]]
        f = placed_by.get(svc.id)
        if f is None:
            if failing:
                m.false_alarms.append(f"{svc.id}: {', '.join(r['name'] for r in failing)} failed")
            else:
                m.quiet_ok += 1
        elif not probe_observes(f, flow_service):
            m.out_of_scope.append(f"{svc.id}: {f.kind}@{f.step or '-'}")
        elif failing:
            m.found.append(f"{svc.id}: {f.kind}@{f.step or '-'} ({', '.join(r['name'] for r in failing)})")
        else:
            m.missed.append(f"{svc.id}: {f.kind}@{f.step or '-'} placed, every probe succeeded")
    portal_wide = [r for r in by_service.get("", []) if not r["success"]]
    m.false_alarms += [f"{r['name']}: failed with no fault placed" for r in portal_wide]
    return m


def run_probes_once(base_url: str, out: Path) -> list[dict[str, Any]]:
    """The standard probe set, one round, in-process (the prober is harness code too)."""
    from dvcwatch.core.profile import load_profile
    from probes.config import load_config
    from probes.generate import generate, to_yaml
    from probes.one_round import probe_all

    profile = load_profile(base_url)
    config_path = out / "probes.yaml"
    config_path.write_text(to_yaml(generate(profile, catalog=load_catalog()), profile), encoding="utf-8")
    config = load_config(config_path)
    results = asyncio.run(probe_all(config))
    rows = []
    for r in results:
        rows.append(
            {
                "name": r.target.name,
                "service": getattr(r.target, "service", None) or "",
                "kind": r.target.kind,
                "success": r.success,
                "failed_step": r.observation.failed_step,
                "failure": r.observation.failure,
            }
        )
    (out / "probes.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    return rows


def run_journeys(base_url: str, out: Path, step_timeout: float, parallel: int) -> list[dict[str, Any]]:
    shop_out = out / "shop"
    log = out / "shop.log"
    args = ["shop", "--target", base_url, "--out", str(shop_out), "--overwrite"]  # its own folder
    args += ["--step-timeout", str(step_timeout), "--parallel", str(parallel)]
    code = run_dvcwatch(args, log, timeout=600)
    results = shop_out / "results.json"
    if code in (2, TIMED_OUT) or not results.exists():
        from dvcwatch.core.errors import DvcwatchError

        raise DvcwatchError(f"the journey sweep did not run (exit {code}); see {log}")
    return json.loads(results.read_text(encoding="utf-8"))["results"]


def load_pool(path: Path | None = None) -> Pool:
    return load_model(Pool, path or POOL_PATH)
