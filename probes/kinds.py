"""The one place a probe check kind is registered: its module's `KIND` (model and prober) goes here.

A new kind is a module under `probes/checks/` holding a `TargetBase` model with `kind: Literal[...]`
and an `async def check(target, ctx)`, exported as `KIND = Kind(Model, check)`, plus one entry below.
The configuration's target union, the runner's dispatch and the metrics all derive from this map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from probes.checks import Kind, TargetBase, api_flow, flow, http, tls

KINDS: dict[str, Kind] = {k.name: k for k in (http.KIND, tls.KIND, api_flow.KIND, flow.KIND)}

if TYPE_CHECKING:
    AnyTarget = TargetBase
else:
    AnyTarget = Annotated[Union[tuple(k.model for k in KINDS.values())], Field(discriminator="kind")]  # noqa: UP007
"""A target of any registered kind, as pydantic validates it (chosen by its `kind`)."""
