"""The flow file: one service's recorded HTTP exchange as templates (issue 16).

A flow is readable YAML a person reviews before a load: each request's method, URL and body with
`${...}` holes, what each answer must give (status, extractions), and the journey step it belongs to, so
load's step classes and gates come from the flow itself. Values that change per run (tokens, dossier
codes) are extractions from earlier answers; values that change per citizen are `${citizen.*}`; secrets
are references (`${secret.password}`, `${otp}`) and never the values themselves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dvcwatch.core.errors import ConfigError, LocatedValueError
from dvcwatch.core.steps import Step
from dvcwatch.core.yamlconfig import check_regex, load_model

FLOW_SUFFIX = ".flow.yaml"
INDEX_FILE = "flows.yaml"
TEMPLATE_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
"""`${name}`; `$${` writes a literal `${`. Names: base, origin.<role> (the profile's `origins`: identity
provider, payment gateway …), citizen.<attr>, account.username, secret.password, otp, and the names of
earlier extractions."""
RESERVED = ("base", "otp", "account.username", "secret.password")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Extract(_Strict):
    """A value taken from an answer and used by later requests as `${name}`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    source: Literal["html", "json", "header", "cookie", "url", "regex"]
    expr: str
    """CSS selector (html), dotted path with list indexes (json: `data.items.0.id`), header name
    (`Location` is resolved against the answer's URL: a relative redirect gives the whole URL it leads
    to), cookie name (cookie: the value this answer's `Set-Cookie` gives it), `url` ignores it (the
    answer's URL), a regular expression with one group (regex, over the body)."""
    attr: str | None = None
    """html: the attribute to read (default: the element's text). cookie: `raw` keeps the value as the
    answer set it; by default it is URL-decoded, as the scripts that copy a cookie into a header
    (double-submit anti-forgery: Angular's X-XSRF-TOKEN, Laravel's, Django's X-CSRFToken) send it."""
    regex: str | None = None
    """Applied to the value found above, keeps its first group: a dossier code inside a Location, an
    id inside a link. None keeps the whole value."""

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            check_regex(v)
            if re.compile(v).groups < 1:
                raise ValueError("the regex needs one group: the value to keep")
        return v

    @model_validator(mode="after")
    def _expr(self) -> Extract:
        if self.source == "regex":
            check_regex(self.expr)
            if re.compile(self.expr).groups < 1:
                raise LocatedValueError("a regex extraction needs one group: the value to keep", ("expr",))
        if self.source == "cookie" and self.attr not in (None, "raw"):
            raise LocatedValueError(
                f"a cookie extraction's attr is `raw` (the value as set) or left out (URL-decoded), not {self.attr!r}",
                ("attr",),
            )
        return self


class Upload(_Strict):
    """A file re-sent on replay: the bytes are generated at replay, never stored in the flow."""

    field: str
    filename: str
    content_type: str = "application/octet-stream"
    size: int = Field(default=2048, ge=1, le=10_000_000)
    """Bytes to send, as recorded (within a floor and a cap, so a load does not ship gigabytes)."""


class FlowRequest(_Strict):
    label: str
    """Low-cardinality name for metrics: `POST /ho-so/{code}/nop`."""
    method: str = Field(pattern=r"^[A-Z]+$")
    url: str
    headers: dict[str, str] = {}
    form: dict[str, str] | None = None
    """urlencoded body (or multipart's other fields when `files` is set); values are templates.
    A list of pairs would keep repeated names; a dict keeps the file readable, and repeated fields are
    written `name` once with the last value."""
    json_body: Any | None = None
    body: str | None = None
    """Any other body, as a template (its Content-Type is in `headers`)."""
    files: list[Upload] = []
    extract: list[Extract] = []
    expect_status: list[int] = Field(min_length=1)
    think_seconds: float = Field(default=0.0, ge=0.0)

    @model_validator(mode="after")
    def _one_body(self) -> FlowRequest:
        bodies = [
            self.json_body is not None,
            self.form is not None or bool(self.files),
            self.body is not None,
        ]
        if sum(bodies) > 1:
            raise LocatedValueError("a request has one of json_body, form/files or body", ("json_body",))
        return self


class FlowStep(_Strict):
    step: Step
    requests: list[FlowRequest] = Field(min_length=1)


class Flow(_Strict):
    version: Literal[1] = 1
    service: str
    params: list[str] = []
    """The identity parameters the flow needs (`citizen.cccd`, `account.username` …), so a replay
    can refuse a citizen that lacks one before it starts."""
    steps: list[FlowStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_defined_before_use(self) -> Flow:
        """Every `${name}` is a reserved name, a parameter, or extracted by an earlier request: caught
        here, a misspelt name is a line in the file, not a failed replay in the middle of a load."""
        known = set(RESERVED) | set(self.params)
        for si, step in enumerate(self.steps):
            for ri, req in enumerate(step.requests):
                for where, text in _templates(req):
                    for name in TEMPLATE_RE.findall(text):
                        if name not in known and not name.startswith(("citizen.", "origin.")):
                            raise LocatedValueError(
                                f"${{{name}}} is not extracted by an earlier request (nor a parameter)",
                                ("steps", si, "requests", ri, *where),
                            )
                        if name.startswith("citizen.") and name not in self.params:
                            raise LocatedValueError(
                                f"${{{name}}} is used but not listed in params",
                                ("steps", si, "requests", ri, *where),
                            )
                known.update(e.name for e in req.extract)
        return self

    def requests(self) -> list[tuple[str, FlowRequest]]:
        return [(s.step, r) for s in self.steps for r in s.requests]


def _templates(req: FlowRequest) -> list[tuple[tuple[str | int, ...], str]]:
    out: list[tuple[tuple[str | int, ...], str]] = [(("url",), req.url)]
    out += [(("headers", k), v) for k, v in req.headers.items()]
    out += [(("form", k), v) for k, v in (req.form or {}).items()]
    out += [(("body",), req.body)] if req.body is not None else []
    out += [(("files", i, "filename"), u.filename) for i, u in enumerate(req.files)]

    def walk(value: Any, loc: tuple[str | int, ...]) -> None:
        if isinstance(value, str):
            out.append((loc, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*loc, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*loc, i))

    walk(req.json_body, ("json_body",))
    return out


class FlowIndex(_Strict):
    """`flows.yaml` beside the flow files: where and how they were recorded."""

    origins: list[str] = []
    profile: str | None = None
    recorded_at: str | None = None
    dvcwatch_version: str | None = None
    services: list[str] = []


def load_flow(path: str | Path) -> Flow:
    """One flow file; errors name the file, line and field."""
    return load_model(Flow, path)


def load_flows(directory: str | Path) -> dict[str, Flow]:
    """Every `<service>.flow.yaml` of a directory, by service id. A directory without flows is a
    configuration error (a load over nothing would pass vacuously)."""
    d = Path(directory)
    if not d.is_dir():
        raise ConfigError("not a directory of flows", path=str(d))
    flows: dict[str, Flow] = {}
    for path in sorted(d.glob(f"*{FLOW_SUFFIX}")):
        flow = load_flow(path)
        expected = path.name[: -len(FLOW_SUFFIX)]
        if flow.service != expected:
            raise ConfigError(
                f"the file is named for {expected!r} but holds service {flow.service!r}",
                path=str(path),
                field="service",
            )
        flows[flow.service] = flow
    if not flows:
        raise ConfigError(f"no *{FLOW_SUFFIX} file here", path=str(d))
    return flows


def load_index(directory: str | Path) -> FlowIndex:
    path = Path(directory) / INDEX_FILE
    return load_model(FlowIndex, path) if path.exists() else FlowIndex()
