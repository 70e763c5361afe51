"""Runs at once play different synthetic citizens: each claims a block of the pool, freed when its
process ends however it ends, and never the pool's last citizen (the prober's)."""

from __future__ import annotations

import subprocess
import sys
import uuid

from dvcwatch.core.identities.lease import claim_block

PORTAL = f"http://127.0.0.1:8480/{uuid.uuid4().hex}"  # this test run's own: parallel workers never meet


def played(block, jobs: int) -> set[int]:  # type: ignore[no-untyped-def]
    return {block.index(i) for i in range(jobs)}


def test_two_runs_at_once_play_disjoint_citizens_and_never_the_probers() -> None:
    a = claim_block(PORTAL, 42, 200, 25)
    b = claim_block(PORTAL, 42, 200, 25)
    try:
        assert not a.shared and not b.shared
        assert played(a, 25).isdisjoint(played(b, 25))
        assert 199 not in played(a, 25) | played(b, 25)
        assert [a.index(3), a.index(3)] == [a.index(3)] * 2  # the same job, the same citizen
        other = claim_block("http://127.0.0.1:9999", 42, 200, 25)  # another portal: its own blocks
        assert other.offset == 0
        other.release()
    finally:
        a.release()
        b.release()
    again = claim_block(PORTAL, 42, 200, 25)
    assert again.offset == 0  # released: free again
    again.release()


def test_a_claim_dies_with_its_process_even_by_sigkill() -> None:
    code = (
        "import sys; from dvcwatch.core.identities.lease import claim_block; "
        f"b = claim_block({PORTAL!r}, 42, 200, 25); print(b.offset, flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "0"
        held = claim_block(PORTAL, 42, 200, 25)
        assert held.offset == 25
        held.release()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    freed = claim_block(PORTAL, 42, 200, 25)
    assert freed.offset == 0
    freed.release()


def test_a_pool_too_small_for_two_blocks_is_shared_as_before() -> None:
    small = claim_block(PORTAL, 42, 20, 25)
    assert small.shared and played(small, 25) == set(range(20))
