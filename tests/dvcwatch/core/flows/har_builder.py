"""Recordings written by hand for tests that need no browser: a portal's exchange as `shop --record`
lays it out (recording.har, steps.json, ../recording.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dvcwatch.core.identities import citizen

BASE = "http://127.0.0.1:8111"
IDP = "http://127.0.0.2:8222"
T0 = 1_800_000_000.0
WHO = citizen(42, 3)


def entry(
    t: float,
    method: str,
    url: str,
    status: int = 200,
    *,
    body: str = "",
    ctype: str = "text/html; charset=utf-8",
    location: str | None = None,
    form: str | None = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    set_cookies: list[str] | None = None,
    resource: str = "document",
) -> dict[str, Any]:
    req_headers = [{"name": k, "value": v} for k, v in (headers or {}).items()]
    post = None
    if form is not None:
        req_headers.append({"name": "Content-Type", "value": "application/x-www-form-urlencoded"})
        post = {"mimeType": "application/x-www-form-urlencoded", "text": form}
    if json_body is not None:
        req_headers.append({"name": "Content-Type", "value": "application/json"})
        post = {"mimeType": "application/json", "text": json.dumps(json_body)}
    resp_headers = [{"name": "Content-Type", "value": ctype}]
    if location:
        resp_headers.append({"name": "Location", "value": location})
    resp_headers += [{"name": "Set-Cookie", "value": c} for c in set_cookies or []]
    e: dict[str, Any] = {
        "startedDateTime": datetime.fromtimestamp(T0 + t, UTC).isoformat().replace("+00:00", "Z"),
        "time": 20,
        "_resourceType": resource,
        "request": {"method": method, "url": url, "headers": req_headers},
        "response": {"status": status, "headers": resp_headers, "content": {"mimeType": ctype, "text": body}},
    }
    if post:
        e["request"]["postData"] = post
    return e


def write(
    directory: Path, service: str, entries: list[dict[str, Any]], marks: list[tuple[str, float]]
) -> Path:
    folder = directory / service
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recording.har").write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    steps = {
        "service": service,
        "citizen": WHO.public_dict(),
        "username": WHO.cccd,
        "steps": [{"step": s, "start": T0 + t} for s, t in marks],
    }
    (folder / "steps.json").write_text(json.dumps(steps, ensure_ascii=False))
    index = {
        "profile": "test",
        "origins": {"base": BASE, "identity": IDP},
        "recorded_at": "2026-11-30T00:00:00Z",
    }
    (directory / "recording.json").write_text(json.dumps(index))
    return folder


def portal_recording(directory: Path, service: str = "dich-vu-mau") -> Path:
    """A login on an identity provider, a JSON API, a page with a signed link, a script asset."""
    token, tx, dossier_id, code, sig, csrf = (
        "tokA1b2C3d4E5",
        "TX12345678",
        98765,
        "HS-2026-000123",
        "abcdef0123456789",
        "csrfZ9y8X7w6V5",
    )
    login_page = (
        f'<html><head><meta name="csrf-token" content="{csrf}"></head><body><form method="post">'
        f'<input type="hidden" name="__RequestVerificationToken" value="{token}">'
        '<input name="user"><input type="password" name="password"></form></body></html>'
    )
    entries = [
        entry(0.0, "GET", f"{IDP}/login", body=login_page),
        entry(
            2.0,
            "POST",
            f"{IDP}/login",
            302,
            location=f"/otp?tx={tx}",
            form=f"__RequestVerificationToken={token}&user={WHO.cccd}&password=${{secret.password}}",
        ),
        entry(2.1, "GET", f"{IDP}/otp?tx={tx}", body="<form><input name=otp></form>"),
        entry(4.0, "POST", f"{IDP}/otp", 302, location=f"{BASE}/", form=f"otp=${{otp}}&tx={tx}"),
        entry(4.1, "GET", f"{BASE}/", body="<main>Trang chủ</main>"),
        entry(
            4.2,
            "GET",
            f"{BASE}/static/app.js",
            body="var a=1;",
            ctype="application/javascript",
            resource="script",
        ),
        entry(
            6.0,
            "POST",
            f"{BASE}/api/dossiers",
            201,
            ctype="application/json",
            json_body={
                "name": WHO.full_name,
                "dob": "-".join(reversed(WHO.birth_date.split("/"))),
                "kind": "A",
            },
            body=json.dumps({"data": {"id": dossier_id, "code": code}}),
            resource="fetch",
        ),
        entry(
            6.5,
            "GET",
            f"{BASE}/api/dossiers/{dossier_id}",
            ctype="application/json",
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
            body=json.dumps({"status": "ok"}),
            resource="fetch",
        ),
        entry(
            7.0,
            "GET",
            f"{BASE}/ho-so/{code}",
            body=f'<p>Hồ sơ {code}</p><a class="pay" href="{BASE}/pay?code={code}&amp;sig={sig}">Thanh toán</a>',
        ),
        entry(8.0, "GET", f"{BASE}/pay?code={code}&sig={sig}", body="<p>Đã thanh toán</p>"),
        entry(8.5, "GET", f"{BASE}/thong-ke?x=1", body="{}", ctype="application/json", resource="xhr"),
    ]
    marks = [("login", -0.1), ("otp", 2.05), ("find_service", 4.05), ("submit", 5.9), ("payment", 7.5)]
    return write(directory, service, entries, marks)
