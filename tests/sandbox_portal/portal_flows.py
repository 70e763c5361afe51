"""A citizen's whole path through the sandbox over HTTP, for the tests: pages and API.

Kept out of the assertions so each test reads as the behaviour it checks; every step raises
`StepFailed(step, detail)` when the portal does not answer as a healthy one would.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field

import aiohttp

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.catalog.models import Service
from dvcwatch.core.formdata import fill, sample_file
from dvcwatch.core.identities import Citizen, citizen

CATALOG = load_catalog()


class StepFailed(AssertionError):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step


@dataclass
class Outcome:
    code: str
    expected_date: str
    final_status: str
    result: str  # download | in_person
    sub_results: list[str] = field(default_factory=list)
    payment: str | None = None


def session(timeout: float = 20) -> aiohttp.ClientSession:
    """Cookies on 127.0.0.1 need an unsafe jar: aiohttp's default one ignores cookies for IPs."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


def testid(html: str, name: str) -> bool:
    return f'data-testid="{name}"' in html


def attr_of(html: str, name: str, attr: str) -> str | None:
    m = re.search(rf'data-testid="{re.escape(name)}"[^>]*?{attr}="([^"]*)"', html) or re.search(
        rf'{attr}="([^"]*)"[^>]*?data-testid="{re.escape(name)}"', html
    )
    return m.group(1) if m else None


def text_of(html: str, name: str) -> str | None:
    m = re.search(rf'data-testid="{re.escape(name)}"[^>]*>([^<]*)<', html)
    return m.group(1).strip() if m else None


async def _ok(resp: aiohttp.ClientResponse, step: str) -> str:
    body = await resp.text()
    if resp.status != 200 or testid(body, "error-banner") or testid(body, "error-page"):
        raise StepFailed(step, f"HTTP {resp.status} at {resp.url.path}")
    return body


async def html_login(s: aiohttp.ClientSession, base: str, who: Citizen, next_path: str) -> None:
    async with s.get(f"{base}/dang-nhap", params={"next": next_path}) as r:
        await _ok(r, "login")
    data = {"cccd": who.cccd, "password": who.password, "next": next_path}
    async with s.post(f"{base}/dang-nhap", data=data) as r:
        body = await _ok(r, "login")
        if "/dang-nhap/otp" not in r.url.path:
            raise StepFailed("login", "no OTP page after the password")
    async with s.get(f"{base}/_sandbox/otp", params={"cccd": who.cccd}) as r:
        if r.status != 200:
            raise StepFailed("otp", f"OTP not delivered (HTTP {r.status})")
        otp = (await r.json())["otp"]
    async with s.post(f"{base}/dang-nhap/otp", data={"otp": otp, "next": next_path}) as r:
        body = await _ok(r, "otp")
        if testid(body, "otp-error"):
            raise StepFailed("otp", "OTP refused")


async def html_journey(base: str, service: Service, who: Citizen | None = None, bank: str = "vcb") -> Outcome:
    who = who or citizen(42, 0)
    values = fill(CATALOG, service, who)
    async with session() as s:
        async with s.get(f"{base}/tim-kiem", params={"q": service.name_vi.split(" ")[0]}) as r:
            await _ok(r, "find_service")
        async with s.get(f"{base}/dich-vu/{service.id}") as r:
            await _ok(r, "find_service")
        await html_login(s, base, who, f"/nop-ho-so/{service.id}")
        async with s.get(f"{base}/nop-ho-so/{service.id}") as r:
            await _ok(r, "form")
            page1 = str(r.url)
        assert page1.endswith("/thong-tin"), page1
        draft_base = page1.rsplit("/", 1)[0]
        for slug, fields in (("thong-tin", CATALOG.applicant.fields), ("ho-so", service.fields)):
            async with s.post(f"{draft_base}/{slug}", data={f.name: values[f.name] for f in fields}) as r:
                body = await _ok(r, "form")
                if testid(body, "form-errors"):
                    raise StepFailed("form", f"validation errors on {slug}")
        form = aiohttp.FormData()
        for doc in service.documents:
            name, ctype, content = sample_file(doc.id, list(doc.types))
            form.add_field(doc.id, content, filename=name, content_type=ctype)
        async with s.post(f"{draft_base}/giay-to", data=form) as r:
            body = await _ok(r, "upload")
            if not r.url.path.endswith("/xac-nhan"):
                raise StepFailed("upload", "upload refused")
        payment = None
        if testid(body, "pay-button"):
            async with s.post(f"{draft_base}/thanh-toan") as r:
                gw = await _ok(r, "payment")
                if "/cong-thanh-toan/giao-dich/" not in r.url.path:
                    raise StepFailed("payment", "no gateway")
                if attr_of(gw, "payment-amount", "data-amount") != str(service.fee.amount):
                    raise StepFailed("payment", "wrong amount")
            async with s.post(str(r.url), data={"bank": bank}) as r:
                body = await _ok(r, "payment")
            payment = attr_of(body, "payment-status", "data-status")
            if payment != "paid":
                raise StepFailed("payment", f"payment {payment}")
        elif testid(body, "payment-offline"):
            payment = "offline"
        async with s.post(f"{draft_base}/nop", data={"declaration": "on"}) as r:
            body = await _ok(r, "submit")
        code = text_of(body, "dossier-code")
        expected = text_of(body, "expected-date")
        if not code or not testid(body, "receipt"):
            raise StepFailed("submit", "no receipt")
        status = ""
        for _ in range(60):
            async with s.get(f"{base}/tra-cuu", params={"ma": code}) as r:
                body = await _ok(r, "tracking")
            status = attr_of(body, "dossier-status", "data-status") or ""
            if status == "done":
                break
            await asyncio.sleep(0.1)
        subs = [a for a in re.findall(r'data-testid="sub-result-([a-z-]+)"', body)]
        async with s.get(f"{base}/ho-so/{code}/ket-qua") as r:
            body = await _ok(r, "result")
        if testid(body, "result-download"):
            async with s.get(f"{base}/ho-so/{code}/ket-qua.pdf") as r:
                pdf = await r.read()
                if r.status != 200 or not pdf.startswith(b"%PDF-"):
                    raise StepFailed("result", "no PDF")
            result = "download"
        elif testid(body, "result-in-person"):
            result = "in_person"
        else:
            raise StepFailed("result", "no result")
        return Outcome(code, expected or "", status, result, subs, payment)


async def api_login(s: aiohttp.ClientSession, base: str, who: Citizen, service: str | None = None) -> str:
    body = {"cccd": who.cccd, "password": who.password}
    if service:
        body["service"] = service
    async with s.post(f"{base}/api/v1/auth/login", json=body) as r:
        if r.status != 200:
            raise StepFailed("login", f"HTTP {r.status}")
        challenge = (await r.json())["challenge"]
    async with s.get(f"{base}/_sandbox/otp", params={"cccd": who.cccd}) as r:
        if r.status != 200:
            raise StepFailed("otp", f"OTP not delivered (HTTP {r.status})")
        otp = (await r.json())["otp"]
    async with s.post(f"{base}/api/v1/auth/otp", json={"challenge": challenge, "otp": otp}) as r:
        if r.status != 200:
            raise StepFailed("otp", f"HTTP {r.status}")
        return (await r.json())["token"]


def dossier_form(service: Service, who: Citizen, fields: dict[str, str] | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    values = fields if fields is not None else fill(CATALOG, service, who)
    form.add_field(
        "data", json.dumps({"service": service.id, "fields": values}), content_type="application/json"
    )
    for doc in service.documents:
        name, ctype, content = sample_file(doc.id, list(doc.types))
        form.add_field(doc.id, content, filename=name, content_type=ctype)
    return form


async def api_journey(base: str, service: Service, who: Citizen | None = None) -> Outcome:
    who = who or citizen(42, 1)
    async with session() as s:
        token = await api_login(s, base, who, service.id)
        auth = {"Authorization": f"Bearer {token}"}
        async with s.get(f"{base}/api/v1/services/{service.id}/form") as r:
            if r.status != 200:
                raise StepFailed("form", f"HTTP {r.status}")
        async with s.post(f"{base}/api/v1/dossiers", data=dossier_form(service, who), headers=auth) as r:
            if r.status != 201:
                raise StepFailed("submit", f"HTTP {r.status}: {await r.text()}")
            sub = await r.json()
        payment = None
        if sub["payment"]:
            async with s.post(
                f"{base}/api/v1/payments/{sub['payment']['txn']}/confirm", json={"bank": "bidv"}
            ) as r:
                payment = (await r.json())["status"]
                if r.status != 200:
                    raise StepFailed("payment", f"HTTP {r.status}")
        status = ""
        for _ in range(60):
            async with s.get(f"{base}/api/v1/dossiers/{sub['code']}") as r:
                if r.status != 200:
                    raise StepFailed("tracking", f"HTTP {r.status}")
                view = await r.json()
            status = view["status"]
            if status == "done":
                break
            await asyncio.sleep(0.1)
        async with s.get(f"{base}/api/v1/dossiers/{sub['code']}/result") as r:
            if r.status == 200 and (await r.read()).startswith(b"%PDF-"):
                result = "download"
            elif r.status == 409 and (await r.json()).get("delivery") == "in_person":
                result = "in_person"
            else:
                raise StepFailed("result", f"HTTP {r.status}")
        return Outcome(
            sub["code"],
            sub["expected_date"],
            status,
            result,
            [x["agency"] for x in view["sub_results"]],
            payment,
        )
