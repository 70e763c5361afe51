"""Each fault kind, observed from outside exactly as declared (docs/contracts.md §5)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import yaml
from portal_flows import (
    CATALOG,
    StepFailed,
    api_journey,
    api_login,
    dossier_form,
    html_journey,
    html_login,
    session,
)

from dvcwatch.core.identities import citizen


def faults_file(tmp_path, *faults: dict, **top) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / f"faults-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump({**top, "faults": list(faults)}, allow_unicode=True), encoding="utf-8")
    return str(path)


async def timed_get(s: aiohttp.ClientSession, url: str) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    async with s.get(url) as r:
        body = await r.text()
        return r.status, time.perf_counter() - t0, body


async def test_fixed_latency_hits_only_its_step(sandbox_factory, tmp_path, put_faults) -> None:
    sb = sandbox_factory(
        faults_path=faults_file(tmp_path, {"kind": "latency", "step": "find_service", "seconds": 0.4})
    )
    async with session() as s:
        status, slow, _ = await timed_get(s, f"{sb.url}/dich-vu/cap-ho-chieu")
        assert status == 200 and slow >= 0.4
        # the event, not a speed: with that step held for a minute, another step answers meanwhile
        await asyncio.to_thread(put_faults, sb, [{"kind": "latency", "step": "find_service", "seconds": 60}])
        held = asyncio.ensure_future(timed_get(s, f"{sb.url}/dich-vu/cap-ho-chieu"))
        status, _, _ = await timed_get(s, f"{sb.url}/api/v1/health")
        assert status == 200 and not held.done()
        held.cancel()


async def test_latency_drawn_from_a_distribution(sandbox_factory, tmp_path) -> None:
    dist = {"distribution": "uniform", "min": 0.05, "max": 0.25}
    sb = sandbox_factory(
        faults_path=faults_file(tmp_path, {"kind": "latency", "endpoint": "/api/v1/health", "seconds": dist})
    )
    async with session() as s:
        times = [
            t
            for _, t, _ in await asyncio.gather(*(timed_get(s, f"{sb.url}/api/v1/health") for _ in range(12)))
        ]
    assert min(times) >= 0.05
    assert max(times) - min(times) > 0.02  # drawn per request, not fixed


async def test_error_scoped_to_a_service_and_step(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(
        faults_path=faults_file(
            tmp_path, {"kind": "error", "service": "dang-ky-khai-sinh", "step": "submit", "status": 502}
        )
    )
    with pytest.raises(StepFailed) as failed:
        await api_journey(sb.url, CATALOG.service("dang-ky-khai-sinh"))
    assert failed.value.step == "submit" and "502" in str(failed.value)
    with pytest.raises(StepFailed) as failed:
        await html_journey(sb.url, CATALOG.service("dang-ky-khai-sinh"))
    assert failed.value.step == "submit"
    ok = await api_journey(sb.url, CATALOG.service("dang-ky-khai-tu"))  # other services unaffected
    assert ok.final_status == "done"


async def test_service_fault_hits_login_and_otp_on_the_way_to_it(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(faults_path=faults_file(tmp_path, {"kind": "error", "service": "cap-ho-chieu"}))
    async with session() as s:
        status, _, body = await timed_get(s, f"{sb.url}/dang-nhap?next=/nop-ho-so/cap-ho-chieu")
        assert status == 503 and 'data-testid="error-page"' in body
        status, _, _ = await timed_get(s, f"{sb.url}/dang-nhap?next=/nop-ho-so/dang-ky-xe")
        assert status == 200
        who = citizen(42, 7)
        async with s.post(
            f"{sb.url}/api/v1/auth/login",
            json={"cccd": who.cccd, "password": who.password, "service": "cap-ho-chieu"},
        ) as r:
            assert r.status == 503
        with pytest.raises(StepFailed) as failed:
            await html_login(s, sb.url, who, "/nop-ho-so/cap-ho-chieu")
        assert failed.value.step == "login"
        await html_login(s, sb.url, who, "/nop-ho-so/dang-ky-xe")  # another service logs in fine


async def test_hang_never_answers_and_does_not_block_others(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(faults_path=faults_file(tmp_path, {"kind": "hang", "endpoint": "/api/v1/health"}))
    async with session() as s:
        hung = asyncio.ensure_future(
            s.get(f"{sb.url}/api/v1/health", timeout=aiohttp.ClientTimeout(total=1.0))
        )
        await asyncio.sleep(0.1)
        status, _, _ = await timed_get(s, f"{sb.url}/")
        # the event: the healthy page answered while the hung request was still waiting
        assert status == 200 and not hung.done()
        with pytest.raises(asyncio.TimeoutError):
            await hung


async def test_hang_with_seconds_drops_the_connection_without_an_answer(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(
        faults_path=faults_file(tmp_path, {"kind": "hang", "step": "tracking", "seconds": 0.3})
    )
    async with session() as s:
        t0 = time.perf_counter()
        with pytest.raises(aiohttp.ClientConnectionError):
            await timed_get(s, f"{sb.url}/tra-cuu")
        assert time.perf_counter() - t0 >= 0.3


async def test_reset_aborts_the_connection(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(faults_path=faults_file(tmp_path, {"kind": "reset", "step": "find_service"}))
    async with session() as s:
        with pytest.raises(aiohttp.ClientConnectionError):
            await timed_get(s, f"{sb.url}/")
        status, _, _ = await timed_get(s, f"{sb.url}/api/v1/health")
        assert status == 200


async def test_soft_failure_is_http_200_with_a_banner(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(faults_path=faults_file(tmp_path, {"kind": "soft_failure", "step": "tracking"}))
    async with session() as s:
        status, _, body = await timed_get(s, f"{sb.url}/tra-cuu?ma=G22.99.08-000000-000001")
        assert status == 200
        assert 'data-testid="error-banner"' in body and "Hệ thống đang bận, vui lòng thử lại sau" in body
        async with s.get(f"{sb.url}/api/v1/dossiers/x") as r:
            assert r.status == 200 and (await r.json())["status"] == "busy"
    custom = sandbox_factory(
        faults_path=faults_file(
            tmp_path, {"kind": "soft_failure", "message": "Hệ thống đang bảo trì", "endpoint": "/dich-vu/"}
        )
    )
    async with session() as s:
        _, _, body = await timed_get(s, f"{custom.url}/dich-vu/cap-ho-chieu")
        assert "Hệ thống đang bảo trì" in body


async def test_otp_lost_sends_nothing_readable(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(
        faults_path=faults_file(tmp_path, {"kind": "otp_lost", "service": "dang-ky-tam-tru"})
    )
    with pytest.raises(StepFailed) as failed:
        await api_journey(sb.url, CATALOG.service("dang-ky-tam-tru"))
    assert failed.value.step == "otp"
    with pytest.raises(StepFailed) as failed:
        await html_journey(sb.url, CATALOG.service("dang-ky-tam-tru"))
    assert failed.value.step == "otp"
    assert (await api_journey(sb.url, CATALOG.service("dang-ky-xe"))).final_status == "done"


async def test_payment_fails_after_the_bank_step(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(
        faults_path=faults_file(tmp_path, {"kind": "payment_failed", "service": "cap-ho-chieu"})
    )
    with pytest.raises(StepFailed) as failed:
        await html_journey(sb.url, CATALOG.service("cap-ho-chieu"))
    assert failed.value.step == "payment" and "failed" in str(failed.value)
    who = citizen(42, 9)
    async with session() as s:
        token = await api_login(s, sb.url, who)
        async with s.post(
            f"{sb.url}/api/v1/dossiers",
            data=dossier_form(CATALOG.service("cap-ho-chieu"), who),
            headers={"Authorization": f"Bearer {token}"},
        ) as r:
            sub = await r.json()
        assert sub["status"] == "awaiting_payment"
        async with s.post(
            f"{sb.url}/api/v1/payments/{sub['payment']['txn']}/confirm", json={"bank": "momo"}
        ) as r:
            assert r.status == 402 and (await r.json())["status"] == "failed"
        async with s.get(f"{sb.url}/api/v1/dossiers/{sub['code']}") as r:
            assert (await r.json())["status"] == "awaiting_payment"


async def test_downgrade_takes_payment_and_result_but_keeps_the_label(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(faults_path=faults_file(tmp_path, {"kind": "downgrade", "service": "cap-doi-gplx"}))
    async with session() as s:
        _, _, page = await timed_get(s, f"{sb.url}/dich-vu/cap-doi-gplx")
    assert 'data-level="full"' in page and "Toàn trình" in page
    out = await html_journey(sb.url, CATALOG.service("cap-doi-gplx"))
    assert out.payment == "offline"
    assert out.result == "in_person"
    api = await api_journey(sb.url, CATALOG.service("cap-doi-gplx"))
    assert api.payment is None and api.result == "in_person"
    healthy = await html_journey(sb.url, CATALOG.service("cap-ho-chieu"))
    assert healthy.payment == "paid" and healthy.result == "download"


@pytest.mark.parametrize(
    ("what", "payment", "result"), [("payment", "offline", "download"), ("result", "paid", "in_person")]
)
async def test_downgrade_can_take_only_one_of_the_two(
    sandbox_factory, tmp_path, what, payment, result
) -> None:
    sb = sandbox_factory(
        faults_path=faults_file(tmp_path, {"kind": "downgrade", "service": "cap-doi-gplx", "what": what})
    )
    out = await html_journey(sb.url, CATALOG.service("cap-doi-gplx"))
    assert (out.payment, out.result) == (payment, result)


async def test_window_on_the_sandbox_clock(sandbox_factory, tmp_path) -> None:
    # clock speed 10: the window [0, 4) sandbox seconds lasts 0.4 real seconds
    sb = sandbox_factory(
        clock_speed=10,
        faults_path=faults_file(
            tmp_path,
            {"kind": "error", "endpoint": "/api/v1/health", "window": {"start": 0, "end": 4}},
            {"kind": "error", "endpoint": "/tra-cuu", "window": {"start": 100000}},
        ),
    )
    async with session() as s:
        assert (await timed_get(s, f"{sb.url}/api/v1/health"))[0] == 503
        assert (await timed_get(s, f"{sb.url}/tra-cuu"))[0] == 200  # not yet
        await asyncio.sleep(0.5)
        assert (await timed_get(s, f"{sb.url}/api/v1/health"))[0] == 200  # over
        async with s.get(f"{sb.url}/_sandbox/faults", headers={"Authorization": "Bearer test-token"}) as r:
            listed = await r.json()
    assert [f["active_now"] for f in listed["faults"]] == [False, False]
    assert listed["clock_speed"] == 10 and listed["clock"] > 4


async def test_ratio_hits_a_share_of_requests(sandbox_factory, tmp_path) -> None:
    sb = sandbox_factory(
        faults_path=faults_file(tmp_path, {"kind": "error", "endpoint": "/api/v1/health", "ratio": 0.5})
    )
    async with session() as s:
        statuses = [
            st
            for st, _, _ in await asyncio.gather(
                *(timed_get(s, f"{sb.url}/api/v1/health") for _ in range(200))
            )
        ]
    errors = statuses.count(503)
    assert 60 <= errors <= 140, errors
    assert set(statuses) == {200, 503}


@pytest.mark.parametrize(
    ("step", "path", "other"),
    [
        ("find_service", "/dich-vu/dang-ky-xe", "/tra-cuu"),
        ("login", "/dang-nhap", "/_sandbox/otp?cccd=001001000001"),
        ("tracking", "/tra-cuu", "/"),
        ("form", "/api/v1/services/dang-ky-xe/form", "/api/v1/services/dang-ky-xe"),
        ("result", "/ho-so/G22.99.08-000000-000001/ket-qua", "/ho-so/G22.99.08-000000-000001"),
    ],
)
async def test_each_request_belongs_to_one_step(sandbox_factory, tmp_path, step, path, other) -> None:
    sb = sandbox_factory(faults_path=faults_file(tmp_path, {"kind": "error", "step": step, "status": 500}))
    async with session() as s:
        assert (await timed_get(s, sb.url + path))[0] == 500
        assert (await timed_get(s, sb.url + other))[0] != 500


async def test_bad_day_scenario_loads_on_its_compressed_clock(sandbox_factory) -> None:
    from pathlib import Path

    import sandbox_portal

    scenario = Path(sandbox_portal.__file__).with_name("scenarios") / "bad-day.yaml"
    sb = sandbox_factory(faults_path=scenario)
    async with session() as s:
        async with s.get(f"{sb.url}/_sandbox/faults", headers={"Authorization": "Bearer test-token"}) as r:
            listed = await r.json()
        kinds = {f["kind"] for f in listed["faults"]}
        assert listed["clock_speed"] == 60
        assert {
            "downgrade",
            "error",
            "hang",
            "payment_failed",
            "otp_lost",
            "soft_failure",
            "capacity",
        } <= kinds
        broken = {
            (f["service"], f.get("step"))
            for f in listed["faults"]
            if f["kind"] in ("error", "hang") and "service" in f
        }
        assert len({svc for svc, _ in broken}) == 2 and len({step for _, step in broken}) == 2
        assert [f["kind"] for f in listed["faults"] if f["active_now"]] == [
            "downgrade"
        ]  # 07:30: only the quiet one
    out = await html_journey(sb.url, CATALOG.service("cap-phieu-ly-lich-tu-phap"))
    assert (out.payment, out.result) == ("offline", "in_person")
