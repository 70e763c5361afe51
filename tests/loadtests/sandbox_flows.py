"""Hand-checked flows for the sandbox: the built-in citizens' visit (loadtests/citizens.py), written as
flow files, one per catalog service, so a flow load and a citizen load do the same work and their knees
can be compared. The sequence, steps, statuses and pauses are the citizens' own; what a citizen computes
(the bearer token, the dossier code, the payment's transaction) is an extraction from an earlier answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.formdata import fill, sample_file
from dvcwatch.core.identities import citizen

AUTH = {"Authorization": "Bearer ${token}"}


def _req(
    label: str, method: str, url: str, expect: list[int], think: float = 0.0, **more: Any
) -> dict[str, Any]:
    return {
        "label": label,
        "method": method,
        "url": url,
        "expect_status": expect,
        "think_seconds": think,
        **more,
    }


def service_flow(service_id: str, think: float) -> dict[str, Any]:
    catalog = load_catalog()
    svc = catalog.service(service_id)
    fields = fill(catalog, svc, citizen(42, 0))
    data = json.dumps({"service": svc.id, "fields": fields}, ensure_ascii=False)
    files = []
    for doc in svc.documents:
        filename, ctype, content = sample_file(doc.id, list(doc.types))
        files.append(
            {"field": doc.id, "filename": filename, "content_type": ctype, "size": max(64, len(content))}
        )
    api = "${base}/api/v1"
    steps: list[dict[str, Any]] = [
        {"step": "find_service", "requests": [_req("GET /dich-vu/{service}", "GET", f"${{base}}/dich-vu/{svc.id}", [200])]},
        {
            "step": "login",
            "requests": [
                _req(
                    "POST /api/v1/auth/login", "POST", f"{api}/auth/login", [200], think,
                    json_body={"cccd": "${account.username}", "password": "${secret.password}", "service": svc.id},
                    extract=[{"name": "challenge", "source": "json", "expr": "challenge"}],
                )
            ],
        },
        {
            "step": "otp",
            "requests": [
                _req(
                    "POST /api/v1/auth/otp", "POST", f"{api}/auth/otp", [200],
                    json_body={"challenge": "${challenge}", "otp": "${otp}"},
                    extract=[{"name": "token", "source": "json", "expr": "token"}],
                )
            ],
        },
        {
            "step": "form",
            "requests": [
                _req("GET /api/v1/services/{service}/form", "GET", f"{api}/services/{svc.id}/form", [200], think, headers=AUTH)
            ],
        },
        {
            "step": "submit",
            "requests": [
                _req(
                    "POST /api/v1/dossiers", "POST", f"{api}/dossiers", [201], think, headers=AUTH,
                    form={"data": data}, files=files,
                    extract=[{"name": "code", "source": "json", "expr": "code"}]
                    + ([{"name": "txn", "source": "json", "expr": "payment.txn"}] if svc.charges_fee else []),
                )
            ],
        },
    ]  # fmt: skip
    if svc.charges_fee:
        steps.append(
            {
                "step": "payment",
                "requests": [
                    _req(
                        "POST /api/v1/payments/{txn}/confirm", "POST", f"{api}/payments/${{txn}}/confirm", [200],
                        think, headers=AUTH, json_body={"bank": "vcb"},
                    )
                ],
            }
        )  # fmt: skip
    steps += [
        {"step": "tracking", "requests": [_req("GET /api/v1/dossiers/{code}", "GET", f"{api}/dossiers/${{code}}", [200], think, headers=AUTH)]},
        {"step": "result", "requests": [_req("GET /api/v1/dossiers/{code}/result", "GET", f"{api}/dossiers/${{code}}/result", [200, 409], headers=AUTH)]},
    ]  # fmt: skip
    return {"version": 1, "service": svc.id, "params": [], "steps": steps}


def write_sandbox_flows(directory: Path, think: float = 0.5, services: list[str] | None = None) -> Path:
    """A flows directory for the sandbox: every catalog service (or `services`), `think` s pauses."""
    directory.mkdir(parents=True, exist_ok=True)
    for sid in services or [s.id for s in load_catalog().services]:
        text = yaml.safe_dump(service_flow(sid, think), allow_unicode=True, sort_keys=False)
        (directory / f"{sid}.flow.yaml").write_text(text, encoding="utf-8")
    (directory / "flows.yaml").write_text("profile: sandbox\n", encoding="utf-8")
    return directory
