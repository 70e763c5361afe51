"""The standard probe set for a portal, generated from its target profile and the service catalog.

An operator should not hand-write 56 targets: home, login, the payment gateway, the page of each of
the 25 services, the JSON API (health, service list, each service's form schema) and one api_flow.
The output is an ordinary probe config with named modules, meant to be edited (intervals, budgets,
which services matter most) and committed.
"""

from __future__ import annotations

from typing import Any

import yaml

from dvcwatch.core.catalog import Catalog, load_catalog
from dvcwatch.core.profile import Profile
from probes.config import SOFT_FAILURE_MARKERS

# the service whose form schema the api_flow fetches: fully online, free, the seed of Project 06
FLOW_SERVICE = "dang-ky-khai-sinh"

MODULES: dict[str, dict[str, Any]] = {
    "page": {
        "kind": "http",
        "must_not_contain": list(SOFT_FAILURE_MARKERS),
        "latency_budget_seconds": 3.0,
    },
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


def _service_url(profile: Profile, service_id: str, catalog: Catalog) -> str | None:
    path = profile.paths.service
    if "{code}" in path:
        codes = catalog.service(service_id).codes
        return profile.url(path, code=codes[0].code) if codes else None
    return profile.url(path, service=service_id)


def generate(
    profile: Profile,
    vantage: str = "default",
    catalog: Catalog | None = None,
    profile_path: str | None = None,
) -> dict[str, Any]:
    """`profile_path`: the profile's file as the generated config should name it (relative to where
    the config is written, or absolute), so the api_flow logs in as the profile's account."""
    catalog = catalog or load_catalog()
    p = profile.paths
    api = profile.url(p.api_base).rstrip("/")
    targets: list[dict[str, Any]] = [
        {"name": "home", "module": "page", "url": profile.url(p.home)},
        {"name": "login", "module": "page", "url": profile.url(p.login)},
        {"name": "payment-gateway", "module": "reachable", "url": profile.url(p.payment_gateway)},
    ]
    for s in catalog.services:
        url = _service_url(profile, s.id, catalog)
        if url:
            targets.append({"name": f"page-{s.id}", "module": "page", "service": s.id, "url": url})
    targets += [
        {
            "name": "api-health",
            "module": "api",
            "url": profile.url(p.health),
            "interval": "30s",
            "timeout": "5s",
        },
        {"name": "api-services", "module": "api", "url": f"{api}/services", "must_contain": ['"id"']},
    ]
    for s in catalog.services:
        targets.append(
            {
                "name": f"api-form-{s.id}",
                "module": "api",
                "service": s.id,
                "url": f"{api}/services/{s.id}/form",
                "must_contain": ['"pages"'],
            }
        )
    flow = api_flow(profile, catalog, profile_path)
    if flow:
        targets.append(flow)
    config: dict[str, Any] = {
        "version": 1,
        "vantage": vantage,
        "concurrency": 32,
        "defaults": {"interval": "60s", "timeout": "10s", "jitter": 0.1},
        "modules": MODULES,
        "targets": targets,
    }
    polite = profile.politeness.model_dump(exclude_defaults=True)
    if polite:  # the operator's contact and limits, as the journeys use them
        config["politeness"] = polite
    return config


def api_flow(profile: Profile, catalog: Catalog, profile_path: str | None = None) -> dict[str, Any] | None:
    """Log in, OTP, form schema, as the mystery shopper would: the profile's test account (when the
    profile names one and is a file) and its OTP source. A person typing the code cannot serve an
    unattended prober, so a `prompt` source gets no api_flow."""
    if profile.otp.source == "prompt" or (profile.otp.source in ("sandbox", "http") and not profile.otp.url):
        return None
    service = FLOW_SERVICE if any(s.id == FLOW_SERVICE for s in catalog.services) else catalog.services[0].id
    creds: dict[str, Any]
    if profile.environment == "sandbox":
        # the sandbox pre-registers citizens(seed, n): a synthetic one needs no secret
        # the last pre-registered citizen is the probes': journeys count up from 0, so they never share an OTP
        creds = {"synthetic": {"seed": profile.identities.seed, "index": profile.identities.count - 1}}
    elif profile_path and profile.account:
        creds = {"profile": profile_path, "account": profile.account}
    else:
        creds = {"cccd_env": "DVCWATCH_PROBE_CCCD", "password_env": "DVCWATCH_PROBE_PASSWORD"}
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


def to_yaml(config: dict[str, Any], profile: Profile) -> str:
    header = (
        f"# Probe config for {profile.name} ({profile.base_url}), generated by\n"
        f"#   dvcwatch probe --from-catalog ...\n"
        "# Edit freely: intervals, budgets, which services matter. Secrets come from environment\n"
        "# variables named here (never written into this file).\n"
    )
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=None, width=200)
    return header + body
