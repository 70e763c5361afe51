"""The tls check: handshake time and the certificate's expiry, warning ahead of the lapse."""

from __future__ import annotations

from probes.config import load_config_text
from probes.runner import new_session, run_probe


def target(url: str, **extra: object):  # type: ignore[no-untyped-def]
    lines = ["  - name: cert", f"    url: '{url}'", "    kind: tls", "    insecure_skip_verify: true"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return load_config_text("targets:\n" + "\n".join(lines) + "\n").targets[0]


async def probe(t):  # type: ignore[no-untyped-def]
    async with new_session() as session:
        return await run_probe(t, session)


async def test_expiry_and_handshake_phases(tls_portal, cert_expiry: float) -> None:
    r = await probe(target(tls_portal.url, min_days_left=1))
    assert r.success, r.observation.failure
    assert r.observation.tls_expiry == cert_expiry
    assert r.phases["tls"] > 0 and r.phases["connect"] > 0


async def test_certificate_expiring_soon_fails(tls_portal) -> None:
    r = await probe(target(tls_portal.url))  # default min_days_left 14, the cert has 3
    assert not r.success
    assert "expires in 2.9" in r.observation.failure or "expires in 3.0" in r.observation.failure
    assert r.observation.tls_expiry is not None


async def test_plain_tcp_is_not_tls(portal) -> None:
    r = await probe(target(portal.url.replace("http://", "")))
    assert not r.success and r.observation.failure.startswith("tls:")
