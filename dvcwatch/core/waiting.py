"""Wait, bounded, for a condition another process or thread brings about.

Starting a binary, stopping a supervisor, an alert reaching the listener: each is polled until it holds,
with a deadline that only bounds a broken run. One helper, so every such wait checks once more when the
deadline comes (a condition that became true during the last sleep is not reported as a timeout) and
never sleeps past the deadline. Not `tenacity`: it retries on exceptions; here the answer is a value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(predicate: Callable[[], T], timeout: float, interval: float = 0.1) -> T:
    """Call `predicate` every `interval` seconds until it returns a true value or `timeout` seconds
    have passed; return its last value (true: the condition holds; false: the deadline came first).

    An exception from `predicate` ends the wait at once: that is how a caller gives up early (the
    process it waits on has died)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        left = deadline - time.monotonic()
        if value or left <= 0:
            return value
        time.sleep(min(interval, left))
