"""Turn a profile's selector (a Playwright string or a `By`) into a Playwright locator.

Kept apart from the steps so that journeys and `dvcwatch profile check` find things the same way: a
profile that passes the check drives the same elements in a journey.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from dvcwatch.core.profile import By, Sel

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page


def _pattern(value: str, spec: By) -> Any:
    if spec.regex:
        return re.compile(value)
    return value


def locate(page: Page, spec: Sel) -> Locator:
    """The locator a selector names; a `None` selector is the caller's mistake (check `has` first)."""
    if spec is None:
        raise ValueError("this portal's profile has no such selector (null)")
    if isinstance(spec, str):
        return page.locator(spec)
    if spec.css is not None:
        return page.locator(spec.css)
    if spec.label is not None:
        return page.get_by_label(_pattern(spec.label, spec), exact=spec.exact)
    if spec.role is not None:
        if spec.name is None:
            return page.get_by_role(spec.role)  # type: ignore[arg-type]
        return page.get_by_role(spec.role, name=_pattern(spec.name, spec), exact=spec.exact)  # type: ignore[arg-type]
    if spec.text is not None:
        return page.get_by_text(_pattern(spec.text, spec), exact=spec.exact)
    return page.get_by_placeholder(_pattern(spec.placeholder or "", spec), exact=spec.exact)
