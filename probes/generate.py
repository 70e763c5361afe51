"""The standard probe set for a portal, generated from its target profile (and recorded flows).

An operator should not hand-write dozens of targets. Everything portal-specific comes from the profile
the journeys use, never from the sandbox: the service pages under the profile's own `services:` codes
(a service the profile does not map gets no probe and is named, rather than a probe of a code the
portal may not use), its `paths:`, its error-page and busy-banner selectors as content checks, and a
JSON API only when the profile declares one (`paths.api_base`). A citizen's way in, login → form, is
probed by replaying a recorded flow (`flow` kind) per service given `--flows DIR`; without flows, the
sandbox-style `api_flow` only where the profile declares an API.

The output is an ordinary probe config with named modules, meant to be edited (intervals, budgets,
which services matter most) and committed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dvcwatch.core.catalog import Catalog, load_catalog
from dvcwatch.core.flows import Flow
from dvcwatch.core.flows.model import FLOW_SUFFIX
from dvcwatch.core.page_markers import split_readable
from dvcwatch.core.profile import Profile
from dvcwatch.core.selector_syntax import problem
from probes.checks.flow import PROBE_STEPS
from probes.config import SOFT_FAILURE_MARKERS

# the service whose form schema the api_flow fetches: fully online, free, the seed of Project 06
FLOW_SERVICE = "dang-ky-khai-sinh"
# a flow probe logs in (on a real portal: an SMS to the operator's phone each time), so it runs rarely
FLOW_INTERVAL = "300s"
FLOW_TIMEOUT = "60s"

MODULES: dict[str, dict[str, Any]] = {
    "page": {"kind": "http", "latency_budget_seconds": 3.0},
    "api": {
        "kind": "http",
        "headers": {"Accept": "application/json"},
        "expect_status": [200],
        "must_not_contain": list(SOFT_FAILURE_MARKERS),
        "latency_budget_seconds": 1.0,
    },
    # the gateway's front answers 4xx without a transaction; only 5xx or no answer is its failure
    "reachable": {"kind": "http", "expect_status": ["2xx", "3xx", "4xx"], "latency_budget_seconds": 3.0},
}


@dataclass
class Plan:
    """What the generator decided beyond the config itself: services left out and why, so the
    written file and the command's warning can name them."""

    config: dict[str, Any]
    unmapped: list[str] = field(default_factory=list)
    """Catalog services without a code in the profile's `services:` (their pages are by code)."""
    unseen: list[str] = field(default_factory=list)
    """The parts of the profile's error selectors only a browser evaluates (a whole selector, or one
    part of a list): no probe can see them."""
    notes: list[str] = field(default_factory=list)


def declares_api(profile: Profile) -> bool:
    """The profile says the portal has a JSON API: `paths.api_base` written in the file (the sandbox's
    profile does). The default `/api/v1` is the sandbox's, not a guess about another portal."""
    return "api_base" in profile.paths.model_fields_set


def _profile_error_selectors(profile: Profile) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if profile.selectors.error_page.strip():
        out["error_selectors"] = [profile.selectors.error_page]
    if profile.selectors.error_banner.strip():
        out["busy_selectors"] = [profile.selectors.error_banner]
    return out


def _split(selector: str) -> tuple[str | None, tuple[str, ...]]:
    """What a probe reads of `selector` and what it leaves to a browser; an invalid selector (a profile
    not read by `load_profile`) is a ValueError saying so, never "needs a browser"."""
    why = problem(selector)
    if why:
        raise ValueError(f"invalid selector: {why}")
    return split_readable(selector)


def error_selectors(profile: Profile) -> dict[str, list[str]]:
    """The profile's error page and busy banner, as the probes' selector content checks: what the
    core's matcher (`dvcwatch.core.page_markers`) reads without a browser, a list kept but for its
    parts only a browser judges; those are named by `browser_only` (a check that can never see its
    page would pass every probe, or be refused)."""
    out: dict[str, list[str]] = {}
    for key, selectors in _profile_error_selectors(profile).items():
        kept = [k for k in (_split(s)[0] for s in selectors) if k]
        if kept:
            out[key] = kept
    return out


UNSEEN = (
    "the profile's selector {!r} needs a browser: probes judge HTML without one and never see it "
    "(write the error page and busy banner as CSS, text=, :has-text()/:text-is() or >> chains)"
)


def browser_only(profile: Profile) -> list[str]:
    """Exactly what of the profile's error selectors a probe cannot read (`role=`, `xpath=`, a list's
    `div:visible` part …), so the generated file and the command can say so."""
    sel = _profile_error_selectors(profile)
    return [
        part
        for s in [*sel.get("error_selectors", []), *sel.get("busy_selectors", [])]
        for part in _split(s)[1]
    ]


def page_module(profile: Profile) -> dict[str, Any]:
    sel = error_selectors(profile)
    shows = [*sel.get("error_selectors", []), *sel.get("busy_selectors", [])]
    return {**MODULES["page"], **({"must_not_match": shows} if shows else {})}


def service_pages(profile: Profile, catalog: Catalog) -> tuple[list[dict[str, Any]], list[str]]:
    """A page probe per service the profile can name, and the services it cannot.

    A portal that knows services by catalog id (`paths.service` with `{service}`, the sandbox) has all
    of them. A portal that knows them by procedure code has those of the profile's `services:` map,
    each page required to state its code (so a code that now belongs to another service fails)."""
    path = profile.paths.service
    targets: list[dict[str, Any]] = []
    unmapped: list[str] = []
    for s in catalog.services:
        mapped = profile.services.get(s.id)
        if "{code}" in path:
            if mapped is None:
                unmapped.append(s.id)
                continue
            url = profile.url(path, code=mapped.code, service=s.id)
            extra: dict[str, Any] = {"must_contain": [mapped.code]}
        else:
            url = profile.url(path, service=s.id, **({"code": mapped.code} if mapped else {}))
            extra = {}
        targets.append({"name": f"page-{s.id}", "module": "page", "service": s.id, "url": url, **extra})
    return targets, unmapped


def generate(
    profile: Profile,
    vantage: str = "default",
    catalog: Catalog | None = None,
    profile_path: str | None = None,
    flows: Mapping[str, Flow] | None = None,
    flows_dir: str | None = None,
) -> dict[str, Any]:
    """The probe config (see `plan` for what was left out). `profile_path`: the profile's file as the
    generated config should name it (relative to where the config is written, or absolute), so flows
    log in as the profile's account; `flows_dir` likewise for the flow files."""
    return plan(profile, vantage, catalog, profile_path, flows, flows_dir).config


def plan(
    profile: Profile,
    vantage: str = "default",
    catalog: Catalog | None = None,
    profile_path: str | None = None,
    flows: Mapping[str, Flow] | None = None,
    flows_dir: str | None = None,
) -> Plan:
    catalog = catalog or load_catalog()
    p = profile.paths
    api = declares_api(profile)
    home = profile.url(p.home)
    targets: list[dict[str, Any]] = [
        {"name": "home", "module": "page", "url": home},
        {"name": "login", "module": "page", "url": profile.url(p.login)},
        {"name": "payment-gateway", "module": "reachable", "url": profile.url(p.payment_gateway)},
    ]
    pages, unmapped = service_pages(profile, catalog)
    targets += pages
    notes: list[str] = []
    if api:
        targets += api_targets(profile, catalog)
    elif "health" in p.model_fields_set and profile.url(p.health) != home:
        targets.append({"name": "health", "module": "page", "url": profile.url(p.health)})
    if flows and not _unattended(profile):
        notes.append(
            f"login → form is not probed: the profile's OTP source ({profile.otp.source}) needs a person "
            "or has no url, and a prober runs unattended"
        )
    elif flows:
        targets += flow_targets(profile, catalog, flows, flows_dir or ".", profile_path)
    else:
        one = api_flow(profile, catalog, profile_path) if api else None
        if one:
            targets.append(one)
        else:
            notes.append(
                "login → form is not probed: record flows (dvcwatch shop --record, dvcwatch flows compile) "
                "and generate again with --flows DIR"
                + ("" if api else " (the profile declares no API for an api_flow)")
            )
    modules = {**MODULES, "page": page_module(profile)}
    if not api:
        del modules["api"]
    config: dict[str, Any] = {
        "version": 1,
        "vantage": vantage,
        "concurrency": 32,
        "defaults": {"interval": "60s", "timeout": "10s", "jitter": 0.1},
        "modules": modules,
        "targets": targets,
    }
    polite = profile.politeness.model_dump(exclude_defaults=True)
    if polite:  # the operator's contact and limits, as the journeys use them
        config["politeness"] = polite
    return Plan(config, unmapped, browser_only(profile), notes)


def api_targets(profile: Profile, catalog: Catalog) -> list[dict[str, Any]]:
    """The JSON API's health, service list and each service's form schema (sandbox-style API)."""
    p = profile.paths
    base = profile.url(p.api_base).rstrip("/")
    targets: list[dict[str, Any]] = [
        {
            "name": "api-health",
            "module": "api",
            "url": profile.url(p.health),
            "interval": "30s",
            "timeout": "5s",
        },
        {"name": "api-services", "module": "api", "url": f"{base}/services", "must_contain": ['"id"']},
    ]
    for s in catalog.services:
        targets.append(
            {
                "name": f"api-form-{s.id}",
                "module": "api",
                "service": s.id,
                "url": f"{base}/services/{s.id}/form",
                "must_contain": ['"pages"'],
            }
        )
    return targets


def _credentials(profile: Profile, profile_path: str | None) -> dict[str, Any]:
    if profile.environment == "sandbox" and not profile.account:
        # the sandbox pre-registers citizens(seed, n): a synthetic one needs no secret
        # the last pre-registered citizen is the probes': journeys count up from 0, so they never share an OTP
        return {"synthetic": {"seed": profile.identities.seed, "index": profile.identities.count - 1}}
    if profile_path and profile.account:
        return {"profile": profile_path, "account": profile.account}
    return {"cccd_env": "DVCWATCH_PROBE_CCCD", "password_env": "DVCWATCH_PROBE_PASSWORD"}


def _unattended(profile: Profile) -> bool:
    """A person typing the code cannot serve an unattended prober."""
    return not (
        profile.otp.source == "prompt" or (profile.otp.source in ("sandbox", "http") and not profile.otp.url)
    )


def flow_targets(
    profile: Profile,
    catalog: Catalog,
    flows: Mapping[str, Flow],
    flows_dir: str,
    profile_path: str | None,
) -> list[dict[str, Any]]:
    """One `flow` probe per recorded service: login → form with the profile's account and OTP source,
    the profile's error selectors judging every answer, secrets sent only to the profile's origins."""
    known = {s.id for s in catalog.services}
    out: list[dict[str, Any]] = []
    for sid in sorted(flows):
        target: dict[str, Any] = {
            "name": f"flow-{sid}",
            "kind": "flow",
            "service": sid if sid in known else "",
            "url": profile.base_url,
            "flow": os.path.join(flows_dir, f"{sid}{FLOW_SUFFIX}"),
            "credentials": _credentials(profile, profile_path),
            "citizen": {"seed": profile.identities.seed, "index": profile.identities.count - 1},
            "otp": profile.otp.source_config(),
            **error_selectors(profile),
            "step_pages": {s: list(p) for s, p in profile.journey.step_pages.items() if s in PROBE_STEPS},
            "interval": FLOW_INTERVAL,
            "timeout": FLOW_TIMEOUT,
        }
        if profile.origins:
            target["origins"] = dict(profile.origins)
        out.append(target)
    return out


def api_flow(profile: Profile, catalog: Catalog, profile_path: str | None = None) -> dict[str, Any] | None:
    """Log in, OTP, form schema over the sandbox-style JSON API, as the mystery shopper would: the
    profile's test account (when the profile names one and is a file) and its OTP source."""
    if not _unattended(profile):
        return None
    service = FLOW_SERVICE if any(s.id == FLOW_SERVICE for s in catalog.services) else catalog.services[0].id
    creds = _credentials(profile, profile_path)
    otp: dict[str, Any] = (
        {"otp_url": profile.otp.url}
        if profile.otp.source == "sandbox"
        else {"otp": profile.otp.source_config()}
    )
    return {
        "name": "api-flow",
        "kind": "api_flow",
        "service": service,
        "url": profile.url(profile.paths.api_base).rstrip("/"),
        **otp,
        "credentials": creds,
        "interval": "120s",
        "timeout": "30s",
        "latency_budget_seconds": 10.0,
    }


def relative_to(path: str | Path, out_dir: Path | None) -> str:
    """`path` as the written config should name it: relative to the config's folder, so the pair can be
    committed and checked out elsewhere; absolute when the config is printed."""
    absolute = Path(path).resolve()
    return os.path.relpath(absolute, out_dir) if out_dir else str(absolute)


def to_yaml(config: dict[str, Any], profile: Profile, generated: Plan | None = None) -> str:
    header = (
        f"# Probe config for {profile.name} ({profile.base_url}), generated by\n"
        f"#   dvcwatch probe --from-catalog ...\n"
        "# Edit freely: intervals, budgets, which services matter. Secrets come from environment\n"
        "# variables or the profile's secrets (never written into this file).\n"
    )
    if generated is not None:
        if generated.unmapped:
            header += (
                f"# No probe for {len(generated.unmapped)} service(s) the profile's `services:` does not map "
                "to a code\n# (add `<id>: {code: <mã thủ tục>}` there and generate again):\n"
            )
            header += "".join(f"#   {sid}\n" for sid in generated.unmapped)
        header += "".join(f"# {UNSEEN.format(selector)}\n" for selector in generated.unseen)
        header += "".join(f"# {note}\n" for note in generated.notes)
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=None, width=200)
    return header + body
