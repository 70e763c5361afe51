"""Every one of the 25 services, end to end, on a healthy portal: pages and API, zero errors."""

from __future__ import annotations

import asyncio
import re

import pytest
from portal_flows import CATALOG, api_journey, html_journey, session

from dvcwatch.core.identities import citizen

SERVICES = CATALOG.services


def _check(out, svc) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"G22\.99\.08-\d{6}-\d{6}", out.code)
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", out.expected_date)
    assert out.final_status == "done"
    assert out.result == ("download" if svc.level == "full" else "in_person"), svc.id
    assert out.payment == ("paid" if svc.charges_fee else None), svc.id
    assert out.sub_results == [s.agency for s in svc.sub_results]


async def test_every_service_through_the_pages(sandbox) -> None:
    outcomes = await asyncio.gather(
        *(html_journey(sandbox.url, svc, citizen(42, i)) for i, svc in enumerate(SERVICES))
    )
    for svc, out in zip(SERVICES, outcomes, strict=True):
        _check(out, svc)
    assert len({o.code for o in outcomes}) == len(SERVICES)


async def test_every_service_through_the_api(sandbox) -> None:
    outcomes = await asyncio.gather(
        *(api_journey(sandbox.url, svc, citizen(42, 100 + i)) for i, svc in enumerate(SERVICES))
    )
    for svc, out in zip(SERVICES, outcomes, strict=True):
        _check(out, svc)


async def test_bundle_tracks_three_sub_results_one_after_another(sandbox_factory) -> None:
    slow = sandbox_factory(clock_speed=0.5)  # done after 2 s: sub-results are seen mid-way
    svc = CATALOG.service("lien-thong-khai-sinh")
    async with session() as s:
        from portal_flows import api_login, dossier_form

        token = await api_login(s, slow.url, citizen(42, 3))
        async with s.post(
            f"{slow.url}/api/v1/dossiers",
            data=dossier_form(svc, citizen(42, 3)),
            headers={"Authorization": f"Bearer {token}"},
        ) as r:
            code = (await r.json())["code"]
        seen: set[tuple[str, ...]] = set()
        for _ in range(40):
            async with s.get(f"{slow.url}/api/v1/dossiers/{code}") as r:
                view = await r.json()
            seen.add(tuple(x["status"] for x in view["sub_results"]))
            if view["status"] == "done":
                break
            await asyncio.sleep(0.1)
    assert [x["agency"] for x in view["sub_results"]] == ["justice", "mps", "social-insurance"]
    assert ("done", "done", "done") in seen
    assert any(st[0] == "done" and st[2] != "done" for st in seen), seen


async def test_dossiers_survive_a_restart(sandbox_factory, tmp_path) -> None:
    db = tmp_path / "portal.sqlite3"
    first = sandbox_factory(db_path=db)
    out = await api_journey(first.url, CATALOG.service("dang-ky-khai-tu"))
    first.stop()
    second = sandbox_factory(db_path=db)
    async with session() as s, s.get(f"{second.url}/api/v1/dossiers/{out.code}") as r:
        assert r.status == 200
        view = await r.json()
    assert view["status"] == "done"
    assert view["service"] == "dang-ky-khai-tu"
    again = await api_journey(second.url, CATALOG.service("dang-ky-khai-tu"))
    assert again.code != out.code  # numbering continues after the restart


async def test_back_office_clock_is_configurable(sandbox_factory) -> None:
    frozen = sandbox_factory(clock_speed=0.001)
    svc = CATALOG.service("khai-bao-tam-vang")
    async with session() as s:
        from portal_flows import api_login, dossier_form

        token = await api_login(s, frozen.url, citizen(42, 4))
        async with s.post(
            f"{frozen.url}/api/v1/dossiers",
            data=dossier_form(svc, citizen(42, 4)),
            headers={"Authorization": f"Bearer {token}"},
        ) as r:
            assert r.status == 201
            code = (await r.json())["code"]
        await asyncio.sleep(0.3)
        async with s.get(f"{frozen.url}/tra-cuu", params={"ma": code}) as r:
            assert 'data-status="received"' in await r.text()
        async with s.get(f"{frozen.url}/api/v1/dossiers/{code}/result") as r:
            assert r.status == 409
            assert (await r.json()) == {"status": "received"}


async def test_a_new_account_can_register_and_log_in(sandbox) -> None:
    async with session() as s:
        form = {
            "cccd": "001099000777",
            "full_name": "Trần Thị Mai",
            "phone": "0912345678",
            "email": "mai@thu-nghiem.invalid",
            "password": "MatKhau@123",
            "password_confirm": "MatKhau@123",
        }
        async with s.post(f"{sandbox.url}/dang-ky", data=form) as r:
            assert r.url.path == "/dang-nhap"
        async with s.post(f"{sandbox.url}/dang-ky", data=form) as r:
            assert 'data-testid="register-error-cccd"' in await r.text()
        async with s.post(
            f"{sandbox.url}/api/v1/auth/login", json={"cccd": "001099000777", "password": "MatKhau@123"}
        ) as r:
            assert r.status == 200
            assert (await r.json())["otp_sent_to"] == "09******78"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/tim-kiem?q=ho+chieu",
        "/dich-vu/cap-ho-chieu",
        "/tra-cuu",
        "/dang-nhap",
        "/dang-ky",
        "/api/v1/health",
        "/api/openapi.json",
    ],
)
async def test_public_pages_answer(sandbox, path: str) -> None:
    async with session() as s, s.get(sandbox.url + path) as r:
        assert r.status == 200


async def test_search_ignores_diacritics_and_finds_by_code(sandbox) -> None:
    async with session() as s:
        async with s.get(f"{sandbox.url}/tim-kiem", params={"q": "dang ky khai sinh"}) as r:
            body = await r.text()
        assert 'data-testid="service-link-dang-ky-khai-sinh"' in body
        assert 'data-testid="service-link-cap-ho-chieu"' not in body
        async with s.get(f"{sandbox.url}/tim-kiem", params={"q": "1.001456"}) as r:
            assert 'data-testid="service-link-cap-ho-chieu"' in await r.text()


async def test_unknown_pages_carry_the_error_page_marker(sandbox) -> None:
    async with session() as s:
        async with s.get(f"{sandbox.url}/dich-vu/khong-ton-tai") as r:
            assert r.status == 404
            assert 'data-testid="error-page"' in await r.text()
        async with s.get(f"{sandbox.url}/api/v1/dossiers/G22.99.08-000000-000000") as r:
            assert r.status == 404
            assert "error" in await r.json()


async def test_openapi_describes_every_api_route(sandbox) -> None:
    from sandbox_portal.routes.openapi import openapi_spec

    documented = set(openapi_spec()["paths"])
    async with session() as s, s.get(f"{sandbox.url}/api/openapi.json") as r:
        served = await r.json()
    assert set(served["paths"]) == documented
    # the server's own routes, with {service}/{code}/{txn} named as in the spec
    routes = {
        re.sub(
            r"\{(service|code|txn)\}",
            lambda m: "{id}" if m.group(1) == "service" else "{" + m.group(1) + "}",
            p,
        )
        for p in _api_routes()
    }
    assert routes == documented


def _api_routes() -> set[str]:
    from sandbox_portal.app import build_app
    from sandbox_portal.options import SandboxOptions

    app = build_app(SandboxOptions())
    return {
        r.resource.canonical
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/v1")
    }
