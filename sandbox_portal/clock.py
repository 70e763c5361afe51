"""The sandbox clock: one time base for fault windows and the back office.

Fault windows and dossier processing are stated in sandbox seconds so that a "bad day" written in
hours can be replayed in minutes: the clock runs `speed` sandbox seconds per real second from the
moment the portal starts. Dossiers keep wall-clock timestamps so they survive a restart.

The portal's calendar (the dates and times a citizen reads: a dossier's code, its ngày hẹn trả, when
its result came) runs on the same clock, in Vietnam time as a real portal shows it: at speed 3600 a
day's processing passes in 24 real seconds and the due date moves with it. At speed 1 it is the wall
clock. A dossier kept from before a restart is placed on the new run's calendar.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

PORTAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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

    def at(self, wall_timestamp: float) -> float:
        """The sandbox time (seconds since start, the fault windows' scale) of a wall-clock moment."""
        return (wall_timestamp - self.started_at) * self.speed

    def calendar(self, wall_timestamp: float) -> datetime:
        """The portal's date and time of a wall-clock moment, in Vietnam time."""
        return datetime.fromtimestamp(self.started_at + self.at(wall_timestamp), PORTAL_TZ)

    def describe(self) -> dict[str, float]:
        return {"now": round(self.now(), 3), "speed": self.speed, "started_at": self.started_at}
