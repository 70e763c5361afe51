"""Which synthetic citizens a run plays, so that two runs at once never play the same one.

Two sweeps of one portal started together both played citizens 0, 1, 2 …: each logged in as a citizen
the other was logging in as, and took the other's OTP (the sandbox shows the newest code). So a run
claims a block of the pool, `size` citizens from `offset`, and plays `offset + i` for its job `i`: the
same citizen for the same job throughout the run, and citizens no other run on this machine holds.

A claim is an abstract Unix socket bound under a name made of the portal, the seed and the block: the
kernel gives a name to one socket at a time and frees it when its process ends, however it ends (a
SIGKILL included), and it leaves no file anywhere. The last citizen of the pool is never in a block:
the prober's generated checks log in as it (`probes.generate`). When every block is held, the run
shares one (the old behaviour), chosen by its pid.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass, field


@dataclass
class CitizenBlock:
    """Citizens `offset .. offset + size - 1` of a pool of `count` (wrapping), held while `claim` is open."""

    offset: int
    count: int
    shared: bool = False  # every block was held: this run may meet another's citizens
    claim: socket.socket | None = field(default=None, repr=False)

    def index(self, job: int) -> int:
        """The citizen for the sweep's job `job` (its place in the whole, unsharded sweep)."""
        return (self.offset + job) % self.count

    def release(self) -> None:
        if self.claim is not None:
            self.claim.close()
            self.claim = None


def _name(portal: str, seed: int | str, block: int) -> bytes:
    key = hashlib.sha256(f"{portal}\0{seed}".encode()).hexdigest()[:24]
    return f"\0dvcwatch-citizens-{key}-{block}".encode()


def claim_block(portal: str, seed: int | str, count: int, size: int) -> CitizenBlock:
    """The first free block of `size` citizens for this portal and seed on this machine."""
    blocks = (count - 1) // size if size > 0 else 0
    if blocks < 2:
        return CitizenBlock(0, count, shared=True)  # one block or none: nothing to share out
    for block in range(blocks):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(_name(portal, seed, block))
        except OSError:
            sock.close()
            continue
        return CitizenBlock(block * size, count, claim=sock)
    return CitizenBlock((os.getpid() % blocks) * size, count, shared=True)
