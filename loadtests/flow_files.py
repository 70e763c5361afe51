"""The recorded flows a load replays (`--flows DIR`): read and checked once, and shipped to workers.

The master (or a single local process) reads the directory; workers, which may run on other machines
without it, receive the files' text from their master in a Locust message as they connect, and parse
the same text, so every process replays exactly the flows the master checked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.flows import Flow, load_flows
from dvcwatch.core.flows.model import FLOW_SUFFIX
from dvcwatch.core.profile import Profile
from dvcwatch.core.yamlconfig import load_model_text

MESSAGE = "dvc_flows"
"""The custom Locust message (master → worker) that carries the flow files' text."""


@dataclass
class FlowSet:
    """Flows by service id, and the text they were read from (what a worker is sent)."""

    flows: dict[str, Flow] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.flows)


def refuse_production(target: Profile, source: str | None) -> None:
    """A flow logs in, submits dossiers and pays: never against production, whatever is authorised."""
    if target.environment == "production":
        raise ConfigError(
            "replaying recorded flows against a production profile is refused: each replay submits a "
            "dossier and pays; record and replay on staging",
            path=source,
            field="environment",
        )


def check_services(flows: dict[str, Flow], source: str) -> None:
    """The volume mix comes from the catalog: a flow for a service it does not know has no weight."""
    known = {s.id for s in load_catalog().services}
    unknown = sorted(set(flows) - known)
    if unknown:
        raise ConfigError(
            f"flows for services the catalog does not know: {', '.join(unknown)} "
            "(a flow file is named <catalog service id>.flow.yaml)",
            path=source,
        )


def read_flows(directory: str | Path, target: Profile, target_source: str | None) -> FlowSet:
    """The flows of `directory`, refused for a production target; errors name file, line and field."""
    refuse_production(target, target_source)
    d = Path(directory).resolve()
    flows = load_flows(d)
    check_services(flows, str(d))
    texts = {f"{sid}{FLOW_SUFFIX}": (d / f"{sid}{FLOW_SUFFIX}").read_text(encoding="utf-8") for sid in flows}
    return FlowSet(flows, texts, str(d))


def other_origins(flows: dict[str, Flow], origins: Mapping[str, str] | None = None) -> list[str]:
    """The origins a flow reaches besides `${base}` (identity provider, payment platform): the
    profile's `origins.<role>` its URLs name as `${origin.<role>}`, and absolute URLs written in the
    recording. Each must pass the same allow-list as --host."""
    out: set[str] = set()
    for flow in flows.values():
        for _, req in flow.requests():
            role = re.match(r"\$\{origin\.([\w-]+)\}", req.url)
            if role and origins and role.group(1) in origins:
                out.add(origins[role.group(1)].rstrip("/"))
                continue
            parts = urlsplit(req.url)
            if parts.scheme in ("http", "https") and parts.netloc and "${" not in parts.netloc:
                out.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(out)


def report_facts(flows: FlowSet, origins: Mapping[str, str] | None = None) -> dict[str, object]:
    """What the report says about a flow run: which flows, from where, with what digest."""
    digest = hashlib.sha256()
    for name in sorted(flows.texts):
        digest.update(name.encode() + b"\0" + flows.texts[name].encode() + b"\0")
    return {
        "flows": {
            "directory": flows.source,
            "services": sorted(flows.flows),
            "sha256": digest.hexdigest(),
            "other_origins": other_origins(flows.flows, origins),
        }
    }


def parse_shipped(texts: dict[str, str], source: str) -> FlowSet:
    """A worker's copy, from the master's message (the file names are the master's)."""
    flows: dict[str, Flow] = {}
    for name, text in sorted(texts.items()):
        flow = load_model_text(Flow, text, f"{source}/{name}")
        flows[flow.service] = flow
    return FlowSet(flows, dict(texts), source)
