"""The admin API: a token or nothing changes; a bad body is a clear 400 and nothing changes."""

from __future__ import annotations

import pytest
from portal_flows import session

TOKEN = {"Authorization": "Bearer test-token"}
ONE = "faults:\n  - kind: error\n    endpoint: /api/v1/health\n    status: 500\n"


async def _listed(s, url: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with s.get(f"{url}/_sandbox/faults", headers=TOKEN) as r:
        assert r.status == 200
        return (await r.json())["faults"]


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize("auth", [None, "Bearer wrong", "test-token"])
async def test_without_the_token_401_and_nothing_changes(sandbox, method: str, auth: str | None) -> None:
    async with session() as s:
        async with s.put(f"{sandbox.url}/_sandbox/faults", data=ONE, headers=TOKEN) as r:
            assert r.status == 200
        headers = {"Authorization": auth} if auth else {}
        async with s.request(
            method, f"{sandbox.url}/_sandbox/faults", data="faults: []", headers=headers
        ) as r:
            assert r.status == 401
        listed = await _listed(s, sandbox.url)
        assert [f["kind"] for f in listed] == ["error"]
        for path in ("/_sandbox/clock", "/_sandbox/stats"):
            async with s.get(sandbox.url + path, headers=headers) as r:
                assert r.status == 401


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("faults:\n  - kind: error\n    status: [503\n", "malformed YAML"),
        ("faults:\n  - kind: eror\n", "request body:2: faults[0].kind"),
        ("faults:\n  - kind: error\n    service: dang-ky-khai-sinhh\n", "did you mean dang-ky-khai-sinh"),
        ("faults:\n  - kind: error\n    step: thanh-toan\n", "request body:3: faults[0].step"),
        ("faults:\n  - kind: latency\n", "needs seconds"),
        ("faults:\n  - kind: error\n    workers: 3\n", "workers is not a parameter of kind error"),
        ("faults:\n  - kind: error\n    ratio: 1.5\n", "faults[0].ratio"),
        ("faults:\n  - kind: hang\n    window: {start: 10, end: 5}\n", "window end must be after its start"),
        ("faults:\n  - kind: downgrade\n    service: dang-ky-xe\n", "dang-ky-xe is partial"),
        ("faults:\n  - kind: payment_failed\n    service: khai-bao-tam-vang\n", "khai-bao-tam-vang is free"),
        (
            "faults:\n  - kind: downgrade\n    service: khai-bao-tam-vang\n    what: payment\n",
            "khai-bao-tam-vang is free",
        ),
        ("faults:\n  - kind: error\n    colour: red\n", "unknown field"),
        ("42", "expected `faults:`"),
    ],
)
async def test_bad_body_is_a_clear_400_and_nothing_changes(sandbox, body: str, expected: str) -> None:
    async with session() as s:
        async with s.put(f"{sandbox.url}/_sandbox/faults", data=ONE, headers=TOKEN) as r:
            assert r.status == 200
        for method in ("PUT", "POST"):
            async with s.request(method, f"{sandbox.url}/_sandbox/faults", data=body, headers=TOKEN) as r:
                assert r.status == 400
                assert expected in (await r.json())["error"]
        listed = await _listed(s, sandbox.url)
        assert [(f["kind"], f["status"]) for f in listed] == [("error", 500)]


async def test_put_post_delete_change_what_is_active(sandbox) -> None:
    url = f"{sandbox.url}/_sandbox/faults"
    async with session() as s:
        async with s.put(url, data=ONE, headers=TOKEN) as r:
            assert (await r.json())["faults"][0]["id"]
        async with s.get(f"{sandbox.url}/api/v1/health") as r:
            assert r.status == 500
        # JSON works too, one fault or a list
        async with s.post(
            url, json={"kind": "latency", "seconds": 0.01, "step": "tracking"}, headers=TOKEN
        ) as r:
            assert r.status == 201
            added = (await r.json())["added"]
        async with s.post(
            url,
            json=[{"kind": "soft_failure", "step": "result"}, {"kind": "reset", "step": "otp"}],
            headers=TOKEN,
        ) as r:
            assert r.status == 201
        assert [f["kind"] for f in await _listed(s, sandbox.url)] == [
            "error",
            "latency",
            "soft_failure",
            "reset",
        ]
        async with s.delete(f"{url}/{added[0]['id']}", headers=TOKEN) as r:
            assert r.status == 200
        async with s.delete(f"{url}/{added[0]['id']}", headers=TOKEN) as r:
            assert r.status == 404
        assert [f["kind"] for f in await _listed(s, sandbox.url)] == ["error", "soft_failure", "reset"]
        async with s.delete(url, headers=TOKEN) as r:
            assert (await r.json())["faults"] == []
        async with s.get(f"{sandbox.url}/api/v1/health") as r:
            assert r.status == 200


async def test_clock_and_stats(sandbox) -> None:
    async with session() as s:
        async with s.get(f"{sandbox.url}/_sandbox/clock", headers=TOKEN) as r:
            clock = await r.json()
        async with s.get(f"{sandbox.url}/_sandbox/stats", headers=TOKEN) as r:
            stats = await r.json()
    assert clock["speed"] == 1.0 and clock["now"] >= 0
    assert clock["backoffice"] == "fast" and clock["calendar"].endswith("+07:00")  # Vietnam time
    assert stats["dossiers"] == 0 and stats["payments"] == 0 and stats["accounts"] == 200
