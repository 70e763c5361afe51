"""The sandbox clock: one time base for fault windows and the back office.

Fault windows and dossier processing are stated in sandbox seconds so that a "bad day" written in
hours can be replayed in minutes: the clock runs `speed` sandbox seconds per real second from the
moment the portal starts. Dossiers keep wall-clock timestamps so they survive a restart.
"""

from __future__ import annotations

import time


class SandboxClock:
    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._start = time.monotonic()
        self.started_at = time.time()

    def restart(self) -> None:
        """Zero the clock when the portal starts listening, so windows count from the first request."""
        self._start = time.monotonic()
        self.started_at = time.time()

    def now(self) -> float:
        """Sandbox seconds since start."""
        return (time.monotonic() - self._start) * self.speed

    def elapsed_since(self, wall_timestamp: float) -> float:
        """Sandbox seconds since a wall-clock moment (possibly before this process started)."""
        return max(0.0, time.time() - wall_timestamp) * self.speed

    def describe(self) -> dict[str, float]:
        return {"now": round(self.now(), 3), "speed": self.speed, "started_at": self.started_at}
