"""`shop --overwrite` keeps the earlier sweep until the new one has done at least as much.

Writing the new results over the old ones as journeys finish lost a complete sweep to a Ctrl-C before
the first journey, or to a SIGKILL after one. So the earlier results are first moved aside, into
`OUT/earlier-<time>/`, and the console says where. When the new sweep ends (finished or stopped) with
at least as many journeys, the earlier copy goes: it was replaced. Otherwise, or if the run was killed
and never got to decide, it stays there with everything it held."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from dvcwatch.core.errors import DvcwatchError

EARLIER_PREFIX = "earlier-"


def _journeys(folder: Path) -> int | None:
    """How many journeys the results.json in `folder` holds; None if it cannot be read."""
    from playwright_journeys.results import read_results

    try:
        return len(read_results(folder).results)
    except DvcwatchError:
        return None


@dataclass(frozen=True)
class Earlier:
    """The earlier results, moved aside, and how many journeys they held (None: not a readable sweep,
    so never thrown away)."""

    folder: Path
    journeys: int | None

    def settle(self, out: Path) -> str:
        """After the new sweep: drop the earlier copy if the new one did at least as much; returns the
        line to print."""
        new = _journeys(out) or 0
        if self.journeys is not None and new >= self.journeys:
            shutil.rmtree(self.folder, ignore_errors=True)
            return f"replaced the earlier results ({self.journeys} journeys) with this sweep's {new}"
        held = "an unreadable results.json" if self.journeys is None else f"{self.journeys} journeys"
        return f"the earlier results ({held}) are kept in {self.folder}: this sweep finished {new}"


def set_aside(out: Path) -> Earlier | None:
    """Move everything in `out` (but earlier copies) into a new `out/earlier-<time>/`; None if empty."""
    moving = [p for p in out.iterdir() if not p.name.startswith(EARLIER_PREFIX)] if out.is_dir() else []
    if not moving:
        return None
    journeys = _journeys(out) if (out / "results.json").is_file() else None
    base = out / time.strftime(f"{EARLIER_PREFIX}%Y%m%d-%H%M%S")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir()
    for p in moving:
        p.rename(folder / p.name)
    return Earlier(folder, journeys)
