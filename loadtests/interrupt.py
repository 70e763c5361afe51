"""SIGINT, SIGTERM and SIGHUP to `dvcwatch load` all take the one clean stop path.

Python turns only SIGINT into KeyboardInterrupt; SIGTERM (what CI timeouts, systemd and `kill` send)
would end `dvcwatch load` at once and leave nobody to stop the load. Here each of them raises
`Stopped`, a KeyboardInterrupt that remembers the signal, so the code that handles Ctrl-C also
handles a kill: it passes the same signal on to the Locust master (which then writes its partial
report, naming the signal) and stops the workers and the embedded sandbox. A second signal while
stopping is ignored: the stop path is bounded already, and a half-written report helps nobody.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal reached the process; `exit_code` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_of(exc: BaseException) -> int:
    """The signal behind an interruption; a plain KeyboardInterrupt is a Ctrl-C."""
    return exc.signum if isinstance(exc, Stopped) else signal.SIGINT


@contextmanager
def stop_signals() -> Iterator[None]:
    """Within this block, the first stop signal raises Stopped in the main thread; later ones are
    ignored. Outside the main thread (signals cannot be caught there) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        if received:
            return
        received.append(signum)
        raise Stopped(signum)

    old = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
