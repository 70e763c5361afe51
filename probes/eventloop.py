"""The prober's event loop: uvloop where it is installed, the standard library's otherwise.

A `/probe` spends most of its CPU in the event loop (sockets, transports, callbacks), not in dvcwatch's
code; uvloop does that part in C. Measured side by side with blackbox_exporter (docs/performance.md,
"The prober"), it is the largest single gain. Only the prober process uses it: journeys and load users
keep the standard loop. `DVCWATCH_PROBER_LOOP=asyncio` selects the standard loop, to compare or to rule
uvloop out when chasing a fault.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from dvcwatch.core.errors import ConfigError

LOOP_ENV = "DVCWATCH_PROBER_LOOP"
CHOICES = ("uvloop", "asyncio")
T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop unless the environment asks for the standard one or uvloop is not installed;
    None means asyncio's default."""
    choice = os.environ.get(LOOP_ENV, "uvloop").strip().lower() or "uvloop"
    if choice not in CHOICES:
        raise ConfigError(f"{LOOP_ENV}={choice!r}: expected one of {', '.join(CHOICES)}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """What the prober's log names its loop: `uvloop` or `asyncio`."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the prober's loop."""
    try:
        factory = loop_factory()
    except ConfigError:
        main.close()  # never awaited: no "coroutine was never awaited" warning on a bad setting
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
