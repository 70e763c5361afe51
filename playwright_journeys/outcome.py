"""How a step ends badly: the portal failed the citizen, or the harness failed itself.

The two are kept apart on purpose: a leader must never read "the portal is broken" when it was our
browser that crashed (`HarnessError`), and never read "tool problem" when the portal hung (`StepFailure`).
"""

from __future__ import annotations

import re


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
    """The harness could not run the journey (browser crashed, bad catalog data, a selector that
    names the wrong kind of element, a required field the profile does not cover): not the portal's
    fault. `selector` names the profile's selector when one is to blame."""

    def __init__(self, message: str, *, selector: str | None = None) -> None:
        super().__init__(message)
        self.selector = selector


# How a harness error that Playwright named begins (usage_error); a report that says "harness or
# profile error" itself drops it from the message rather than say it twice.
HARNESS_BLAME = "harness or profile error, not the portal: "


def without_blame(message: str) -> str:
    return message.removeprefix(HARNESS_BLAME)


# Playwright's words for "the harness asked for something impossible": the element is not what the
# profile said it was, or the selector itself is wrong. None is the portal failing the citizen.
USAGE_ERRORS = (
    "strict mode violation",
    "not a checkbox or radio button",
    "element is not a <select> element",
    "not an <input>, <textarea>",
    "cannot type text into input",
    "input of type",  # "… cannot be filled"
    "is not a valid selector",
    "unexpected token",
    "unknown engine",
    "unsupported token",
    "malformed",
    "clicking the checkbox did not change its state",
    "cannot check",
    "expected string",
    "node is not an htmlinputelement",
    "non-multiple file input",
)


def usage_error(exc: BaseException) -> HarnessError | None:
    """A HarnessError for a Playwright usage error (the profile's selector or our action is wrong for
    the element), keeping Playwright's message and the locator it names; None for anything else. A
    timeout never is one: its call log may quote the page's state, but waiting out the portal is the
    runner's "no answer", whatever the log says."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    if isinstance(exc, PlaywrightTimeout):
        return None
    text = str(exc)
    if not any(marker in text.lower() for marker in USAGE_ERRORS):
        return None
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    locator = re.search(
        r"waiting for (.+)$|violation: (.+?) resolved to|while parsing \w+ selector (\".+?\")",
        text,
        re.MULTILINE,
    )
    where = next(g for g in locator.groups() if g).strip() if locator else None
    return HarnessError(
        f"{HARNESS_BLAME}{first}" + (f" (selector {where})" if where else ""),
        selector=where,
    )
