"""Stopping an asyncio run on Ctrl-C, SIGTERM or SIGHUP, told apart, whatever the process inherited.

SIGHUP (a closed terminal or SSH session) is a stop like the others: left to Python's default it
would end the process at once, with no cleanup and no looks saved.

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
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Signalled(Exception):
    """The run was stopped by `signum`; `exit_code` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        self.name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")


class Interrupts:
    """The loop's handlers for `signals`, for the running task (entered inside it).

    The first signal is noted and the task cancelled; leaving the block turns that cancellation into
    Signalled. `check()` raises Signalled as soon as a signal was noted, for code that may see the
    signal's effects before its cancellation: a Ctrl-C sent to the whole process group reaches a
    browser and its driver too, which may die first and answer "browser has been closed".
    `on_signal` runs once, at the first signal, before the task is cancelled: what the caller must do
    while the stop is still ahead (an instrument quieting its driver's teardown noise)."""

    def __init__(
        self, signals: tuple[int, ...] = STOP_SIGNALS, on_signal: Callable[[], None] | None = None
    ) -> None:
        self.signals = signals
        self.on_signal = on_signal
        self.seen: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> Interrupts:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal(signum: int) -> None:
            if self.seen is None:
                self.seen = signum
                if self.on_signal is not None:
                    self.on_signal()
                if task is not None:
                    task.cancel()

        for sig in self.signals:
            self._loop.add_signal_handler(sig, on_signal, sig)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._loop is not None
        for sig in self.signals:
            self._loop.remove_signal_handler(sig)
        if kind is not None and issubclass(kind, asyncio.CancelledError) and self.seen is not None:
            raise Signalled(self.seen) from None

    def check(self) -> None:
        if self.seen is not None:
            raise Signalled(self.seen)


async def until_signalled(work: Awaitable[T], signals: tuple[int, ...] = STOP_SIGNALS) -> T:
    """Await `work`; on the first of `signals`, cancel it and raise Signalled. Must be awaited as
    the main task's own coroutine (`asyncio.run(until_signalled(...))`)."""
    with Interrupts(signals):
        return await work
