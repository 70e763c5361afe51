"""Fixtures shared by every test folder.

The sandbox runs in-process (tests may import it; harness code may not). Artifacts a person should
look at (screenshots, reports) go under test-artifacts/, which git ignores.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    d = ARTIFACTS / request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[..., object]]:
    """Start a sandbox with given options: `sandbox_factory(faults_path=..., capacity_workers=...)`."""
    from sandbox_portal.server import SandboxServer

    started: list[SandboxServer] = []

    def make(**kwargs: object) -> SandboxServer:
        kwargs.setdefault("db_path", tmp_path / f"sandbox{len(started)}.sqlite3")
        kwargs.setdefault("admin_token", "test-token")
        server = SandboxServer(**kwargs)
        server.start()
        started.append(server)
        return server

    yield make
    for s in started:
        s.stop()


@pytest.fixture
async def serve_app() -> AsyncIterator[Callable[[object], Awaitable[str]]]:
    """Serve a small aiohttp app on a free loopback port, in the test's own event loop:
    `url = await serve_app(app)` gives `http://127.0.0.1:PORT`; every app is stopped at teardown."""
    from aiohttp import web

    runners: list[web.AppRunner] = []

    async def serve(app: object) -> str:
        assert isinstance(app, web.Application)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    yield serve
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., object]) -> object:
    """A healthy sandbox portal; `.url`, `.admin_token`."""
    return sandbox_factory()


@pytest.fixture(scope="session")
def recorded_flows(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], object]:
    """`recorded_flows("sandbox" | "other" | "third", service)` → `flows_recorded.Recorded` (`.rec`,
    `.flows`, read-only; `.otp`): one `shop --record` and `flows compile` per portal and service for the
    whole run, both xdist workers included; replay it on a portal of your own."""
    from flows_recorded import recorded

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's, not the worker's
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"solo-{os.getpid()}")
    cache = shared / f"recorded-flows-{run}"
    return lambda portal, service: recorded(cache, portal, service)


@pytest.fixture
def put_faults() -> Callable[[object, object], None]:
    """Replace a running sandbox's faults through its admin API, as an operator's script would:
    `put_faults(sandbox, {"faults": [...]})` or a list of faults."""
    import json
    import urllib.request

    def put(sandbox: object, body: object) -> None:
        req = urllib.request.Request(
            f"{sandbox.url}/_sandbox/faults",  # type: ignore[attr-defined]
            data=json.dumps(body).encode(),
            method="PUT",
            headers={
                "Authorization": f"Bearer {sandbox.admin_token}",  # type: ignore[attr-defined]
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    return put


# Tests that sweep all 25 services in a browser (or run a whole demo) time steps against timeouts on a
# 2-core machine: two of them at once starve each other's browser and fail for the machine's sake, not
# the code's. A lock file shared by the xdist workers of one run lets one sweep run at a time. The lock
# alone leaves a worker idle: xdist's `load` deals neighbouring tests out in turn, so the other worker
# gets the next sweep and blocks on the lock for the whole of this one. So under `-n` (`--dist load`)
# the sweeps are one unit of work for one worker, in turn, from the start of the run, while the other
# worker goes on with the rest of the suite (`pytest_xdist_make_scheduler` below); the lock still holds
# under any other --dist. (`xdist_group` would say the same, but with pytest 9.2 xdist 3.8 ignores it:
# pytest-dev/pytest-xdist#1386.)
SWEEPS = (
    "tests/playwright_journeys/test_shop_sweeps.py",
    "tests/playwright_journeys/test_production_look_only.py",
    "tests/dvcwatch/orchestration/test_demo.py",
    "tests/dvcwatch/orchestration/test_rehearse.py::test_rehearse_end_to_end",
    "tests/playwright_journeys/test_third_portal_sweeps.py",
    "tests/playwright_journeys/test_fourth_portal_scaffold.py",
    "tests/dvcwatch/orchestration/test_demo_signals.py",
    "tests/playwright_journeys/test_remote_browsers.py",
)
SWEEP_TIMEOUT = 1800  # its own run plus waiting for the other worker's sweep


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SWEEPS):
            item.add_marker(pytest.mark.timeout(SWEEP_TIMEOUT))


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist load` (what `-n` means), except that every sweep is in one unit of work: scopes with more
    tests go first (xdist's loadscope order), so one worker starts on the sweeps at once."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SweepsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "sweeps" if nodeid.startswith(SWEEPS) else nodeid

    return SweepsTogether(config, log)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _one_sweep_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    if not request.node.nodeid.startswith(SWEEPS):
        yield
        return
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"solo-{os.getpid()}")
    lock = Path(tempfile.gettempdir()) / f"dvcwatch-sweeps-{run}.lock"
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
