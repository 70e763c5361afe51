"""The prober never connects to itself.

A portal (or a scheduled target) that redirects to the prober's own `/probe?target=<the portal>` would
make every probe start another, without end: hundreds a second, thousands of sockets, long after the
first caller gave up. The guard sits where every connection of the prober's session is made (aiohttp's
`socket_factory`, called with each address a host name resolved to), so it sees through every spelling
of the prober's address — `localhost`, `127.0.0.1`, `[::1]`, `0.0.0.0`, a name that resolves to this
box — and through every redirect, before a byte is sent.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

REFUSED = "refused: the prober's own address (a redirect or a target pointing back at the prober)"


class SelfProbeRefused(OSError):
    """A connection to one of the prober's own listening sockets; nothing was sent."""

    def __init__(self) -> None:
        super().__init__(errno.ECONNREFUSED, REFUSED)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_local(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address of this machine: one a socket can bind to (the kernel's own answer, whatever the
    interfaces), or an unspecified address, which a connect sends to this machine."""
    if ip.is_unspecified or ip.is_loopback:
        return True
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((str(ip), 0))
    except OSError:
        return False
    return True


class OwnAddresses:
    """The (address, port) pairs the prober listens on, filled once its sockets are bound."""

    def __init__(self) -> None:
        self._bound: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]] = []
        self._ports: frozenset[int] = frozenset()

    def listening_on(self, addresses: Iterable[Any]) -> None:
        """`addresses`: the sockets' names as aiohttp's `AppRunner.addresses` gives them."""
        self._bound = [(_ip(str(a[0])), int(a[1])) for a in addresses]
        self._ports = frozenset(port for _, port in self._bound)

    def is_own(self, host: str, port: int) -> bool:
        if port not in self._ports:
            return False  # most connections: no address to parse
        try:
            ip = _ip(host)
        except ValueError:
            return False
        for own_ip, own_port in self._bound:
            if port != own_port:
                continue
            if ip == own_ip or ip.is_unspecified:
                return True
            if own_ip.is_unspecified and _is_local(ip):
                return True
        return False

    def socket_factory(self, addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, address = addr_info
        if self._bound and self.is_own(address[0], address[1]):
            raise SelfProbeRefused()
        return socket.socket(family=family, type=type_, proto=proto)
