"""Stopping an asyncio run on Ctrl-C or SIGTERM, told apart, whatever the process inherited.

Two traps make a plain `signal.signal` handler unreliable here. Python keeps an inherited SIG_IGN
for SIGINT, so a command started as a script's background job (or under some test runners) never
hears Ctrl-C. And a handler that raises while the loop runs one of its callbacks has the exception
swallowed and logged by asyncio, unless it is a KeyboardInterrupt or SystemExit, so the run goes on
as if nothing came. The loop's own handlers avoid both. They note the signal and cancel the main
task, so the run stops at its next await and never stops in the middle of a database write.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Signalled(Exception):
    """The run was stopped by `signum`; `exit_code` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        self.name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")


async def until_signalled(work: Awaitable[T], signals: tuple[int, ...] = STOP_SIGNALS) -> T:
    """Await `work`; on the first of `signals`, cancel it and raise Signalled. Must be awaited as
    the main task's own coroutine (`asyncio.run(until_signalled(...))`)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    seen: list[int] = []

    def on_signal(signum: int) -> None:
        if not seen and task is not None:
            seen.append(signum)
            task.cancel()

    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await work
    except asyncio.CancelledError:
        if seen:
            raise Signalled(seen[0]) from None
        raise
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
