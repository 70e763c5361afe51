"""Render the committed Alertmanager config for one running stack.

The committed `alerts/alertmanager.yml` points its webhooks at the listener's default address; a stack
(or a test) runs its listener on a port of its own and may want shorter waits, so it gets a copy with
the base URL and timings replaced. Routing and inhibition stay exactly as committed and reviewed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alerts import ALERTMANAGER_PATH

DEFAULT_WEBHOOK_BASE = "http://127.0.0.1:9099"
TIMINGS = ("group_wait", "group_interval", "repeat_interval")
# The dead man's switch: DvcWatchdog always fires and is re-sent every few minutes; the service behind
# this receiver pages when it stops arriving. Its cadence is a contract with that service, so `timings`
# never change its route.
HEARTBEAT_RECEIVER = "deadmans-switch"


def _routes(route: dict[str, Any]) -> list[dict[str, Any]]:
    out = [route]
    for child in route.get("routes", []):
        out.extend(_routes(child))
    return out


def render(
    webhook_base: str,
    *,
    timings: dict[str, str] | None = None,
    source: Path = ALERTMANAGER_PATH,
) -> str:
    """The config with webhooks sent to `webhook_base`; `timings` overrides every route's waits."""
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    base = webhook_base.rstrip("/")
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            if hook["url"].startswith(DEFAULT_WEBHOOK_BASE):
                hook["url"] = base + hook["url"][len(DEFAULT_WEBHOOK_BASE) :]
    for key, value in (timings or {}).items():
        if key not in TIMINGS:
            raise ValueError(f"unknown timing {key!r}; one of {', '.join(TIMINGS)}")
        for route in _routes(config["route"]):
            if route.get("receiver") == HEARTBEAT_RECEIVER:
                continue
            if key in route or route is config["route"]:
                route[key] = value
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def receivers(source: Path = ALERTMANAGER_PATH) -> list[str]:
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    return [r["name"] for r in config.get("receivers", [])]
