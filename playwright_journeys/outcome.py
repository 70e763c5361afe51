"""How a step ends badly: the portal failed the citizen, or the harness failed itself.

The two are kept apart on purpose: a leader must never read "the portal is broken" when it was our
browser that crashed (`HarnessError`), and never read "tool problem" when the portal hung (`StepFailure`).
"""

from __future__ import annotations


class StepFailure(Exception):
    """The portal did not let the citizen through this step; `seen` is what the citizen saw."""

    def __init__(
        self, message: str, *, seen: str = "", http_status: int | None = None, selector: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.seen = seen
        self.http_status = http_status
        self.selector = selector  # "name: how it is found", when a selector found nothing


class LookOnlyStop(Exception):
    """Production, look-don't-touch: the journey reached the last reversible point and stops here."""


class HarnessError(Exception):
    """The harness could not run the journey (browser crashed, bad catalog data): not the portal's fault."""
