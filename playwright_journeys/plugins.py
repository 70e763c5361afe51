"""Step plugins: where a portal needs a truly different step, a profile names a Python function.

`journey.plugins: {payment: vnpt-pay}` picks the entry point `vnpt-pay` of group `dvcwatch.core.steps`
(declared by any installed package), or `module:function` for a module on the path. The function has
the built-in steps' signature, `async def step(j: Journey) -> None`, and uses the same helpers
(`j.expect`, `j.click_and_wait`, `StepFailure`), so the runner times and reports it like any other.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from importlib.metadata import entry_points

from playwright.async_api import Error as PlaywrightError

from dvcwatch.core.errors import ConfigError
from playwright_journeys import steps as registry
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import usage_error
from playwright_journeys.steps import StepFn

GROUP = "dvcwatch.core.steps"


def load_plugin(ref: str, *, step: str) -> StepFn:
    """The step function `ref` names; a ConfigError names the step and what was not found."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == ref]
    try:
        if found:
            fn = found[0].load()
        elif ":" in ref:
            module, _, attr = ref.partition(":")
            fn = getattr(importlib.import_module(module), attr)
        else:
            known = ", ".join(sorted(ep.name for ep in entry_points(group=GROUP))) or "none installed"
            raise ConfigError(
                f"no step plugin {ref!r} in entry point group {GROUP} (known: {known}); "
                "or give module:function",
                field=f"journey.plugins.{step}",
            )
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"cannot load step plugin {ref!r}: {exc}", field=f"journey.plugins.{step}"
        ) from None
    if not inspect.iscoroutinefunction(fn):
        raise ConfigError(
            f"step plugin {ref!r} must be an async function taking the journey",
            field=f"journey.plugins.{step}",
        )
    return fn


def guarded(fn: StepFn) -> StepFn:
    """The step, with Playwright usage errors (strict-mode violation, not a checkbox, a bad selector)
    turned into HarnessError: the journey's verdict is `error` with Playwright's words kept, never a
    portal failure shown to leaders as a broken page."""

    @functools.wraps(fn)
    async def run(j: Journey) -> None:
        try:
            await fn(j)
        except PlaywrightError as exc:
            harness = usage_error(exc)
            if harness is None:
                raise
            raise harness from exc

    return run


def step_functions(plugins: dict[str, str]) -> dict[str, StepFn]:
    """The built-in registry with the profile's plugins in place of the steps they replace, each
    guarded so that a harness or profile mistake is never reported as the portal's."""
    out = dict(registry.REGISTRY)
    for name, ref in plugins.items():
        out[name] = load_plugin(ref, step=name)
    return {name: guarded(fn) for name, fn in out.items()}
