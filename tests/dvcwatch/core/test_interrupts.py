"""`Interrupts` and `until_signalled`: real signals to this process, while the loop waits on an event that never comes."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from dvcwatch.core.interrupts import Interrupts, Signalled, until_signalled


@pytest.fixture(autouse=True)
def _dispositions_restored() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


async def _signalled_while_waiting(signum: int) -> None:
    never = asyncio.Event()
    asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signum)
    await until_signalled(never.wait())


@pytest.mark.parametrize(
    ("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")]
)
def test_a_signal_cancels_the_work_and_says_which(signum: int, code: int, name: str) -> None:
    with pytest.raises(Signalled) as got:
        asyncio.run(_signalled_while_waiting(signum))
    assert (got.value.signum, got.value.exit_code, got.value.name) == (signum, code, name)


def test_ctrl_c_is_heard_even_when_the_process_started_with_sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a script's background job inherits it
    with pytest.raises(Signalled) as got:
        asyncio.run(_signalled_while_waiting(signal.SIGINT))
    assert got.value.exit_code == 130


def test_work_that_ends_gives_its_value_and_leaves_no_handler() -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 7

    async def main() -> int:
        return await until_signalled(work())

    assert asyncio.run(main()) == 7
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_cancellation_that_no_signal_caused_stays_a_cancellation() -> None:
    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_soon(task.cancel)
        await until_signalled(asyncio.Event().wait())

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())


def test_check_raises_once_a_signal_came_even_when_the_work_swallowed_the_cancellation() -> None:
    """As a browser's driver may: it dies of the same Ctrl-C and its cleanup eats the cancellation."""

    async def main() -> None:
        with Interrupts((signal.SIGTERM,)) as interrupts:
            interrupts.check()  # nothing came yet: no exception
            asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                pass
            interrupts.check()
            pytest.fail("check() let the run go on after SIGTERM")

    with pytest.raises(Signalled) as got:
        asyncio.run(main())
    assert got.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_on_signal_runs_once_before_the_work_is_cancelled() -> None:
    """The shop and the scaffold quiet their browser driver here, while the stop is still ahead."""
    calls: list[bool] = []

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None

        def noted() -> None:
            calls.append(task.cancelling() > 0)

        with Interrupts((signal.SIGTERM,), on_signal=noted):
            loop = asyncio.get_running_loop()
            loop.call_soon(os.kill, os.getpid(), signal.SIGTERM)
            loop.call_soon(os.kill, os.getpid(), signal.SIGTERM)
            await asyncio.Event().wait()

    with pytest.raises(Signalled):
        asyncio.run(main())
    assert calls == [False]  # once, for the first signal, and before the cancellation
