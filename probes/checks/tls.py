"""A TLS handshake alone: how long until the certificate expires, and how long the handshake takes.

A portal's certificate lapsing is a whole-portal outage that an HTTP check only reports on the day;
this check warns `min_days_left` ahead and also covers hosts that speak TLS but not HTTP.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import Literal

from pydantic import Field

from probes.checks import CheckContext, Kind, Observation, TargetBase
from probes.phases import ssl_context
from probes.x509 import not_after


class TlsTarget(TargetBase):
    """A TLS handshake only: certificate expiry and handshake time, without an HTTP request."""

    kind: Literal["tls"]
    url: str = Field(description="https://host[:port] or host:port")
    server_name: str | None = Field(None, description="SNI name when it differs from the host")
    min_days_left: float = Field(14, ge=0, description="fail when the certificate expires sooner")

    def host_port(self) -> tuple[str, int]:
        rest = self.url.split("://", 1)[-1].split("/", 1)[0]
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            return rest, 443
        return host.strip("[]"), int(port)


async def check(target: TlsTarget, ctx: CheckContext) -> Observation:
    obs = ctx.observation
    host, port = target.host_port()
    loop = asyncio.get_running_loop()
    t = ctx.timer.totals
    mark = time.perf_counter()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return obs.fail("dns: name not resolved")
    now = time.perf_counter()
    t["dns"], mark = now - mark, now
    family, _, proto, _, addr = infos[0]
    writer = None
    try:
        _, writer = await asyncio.open_connection(addr[0], addr[1], family=family, proto=proto)
        now = time.perf_counter()
        t["connect"], mark = now - mark, now
        sslctx = ssl_context(target.insecure_skip_verify, target.ca_file)
        await writer.start_tls(sslctx, server_hostname=target.server_name or host)
        t["tls"] = time.perf_counter() - mark
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        return obs.fail(f"tls: certificate rejected ({exc.verify_message})")
    except (ssl.SSLError, ConnectionError) as exc:
        return obs.fail(f"tls: handshake failed ({exc.__class__.__name__})")
    except OSError as exc:
        return obs.fail(f"connect: {exc.strerror or exc.__class__.__name__}")
    finally:
        if writer is not None:
            writer.close()
    if not der:
        return obs.fail("tls: no peer certificate")
    obs.tls_expiry = not_after(der)
    days_left = (obs.tls_expiry - time.time()) / 86400
    if days_left < target.min_days_left:
        return obs.fail(f"tls: certificate expires in {days_left:.1f} days (< {target.min_days_left:g})")
    obs.success = True
    return obs


KIND = Kind(TlsTarget, check)
