"""A recording as the compiler reads it: the HAR's page and XHR exchanges, each attributed to the
journey step that was running when it started (`steps.json`), plus who the recording's citizen was.

The HAR may come from `shop --record` or from a person's browser (DevTools → Save all as HAR): the
step marks and the citizen are then absent, and everything belongs to one step the person names.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.flows.pages import AnswerView, parse_html
from dvcwatch.core.inputfile import read_input_text

HAR_FILE = "recording.har"
STEPS_FILE = "steps.json"
INDEX_FILE = "recording.json"
_ASSET_TYPES = ("stylesheet", "script", "image", "font", "media", "manifest", "texttrack")


@dataclass
class Exchange:
    """One request the browser sent and the answer it got (redirects are separate exchanges)."""

    step: str
    method: str
    url: str
    headers: list[tuple[str, str]]
    content_type: str
    form: list[tuple[str, str]] | None = None
    json_body: Any = None
    files: list[dict[str, Any]] = field(default_factory=list)
    multipart: bool = False
    raw_body: str | None = None
    status: int = 0
    answer: AnswerView | None = None
    started: float = 0.0
    ended: float = 0.0
    resource_type: str = ""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def location(self) -> str | None:
        """The redirect's target as a whole URL (a relative Location resolved against this URL)."""
        assert self.answer is not None
        loc = self.answer.headers.get("location")
        return urljoin(self.url, loc) if loc else None


@dataclass
class Recording:
    service: str
    exchanges: list[Exchange]
    citizen: dict[str, str]
    username: str | None
    origins: dict[str, str]  # role → origin URL ("base" for the portal itself)
    profile: str | None = None
    steps: list[str] = field(default_factory=list)  # the steps the journey ran, in order
    verdict: str | None = None  # the recorded journey's verdict (pass, degraded, fail …)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _answer(entry: dict[str, Any], url: str) -> AnswerView:
    resp = entry.get("response", {})
    content = resp.get("content", {})
    text = content.get("text") or ""
    body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for h in resp.get("headers", []):
        low = h["name"].lower()
        if low == "set-cookie" or low not in seen:  # every cookie set; else the first of a name
            pairs.append((low, h["value"]))
            seen.add(low)
    if "set-cookie" not in seen:  # a HAR that lists the cookies set but not their headers
        pairs += [
            ("set-cookie", f"{c['name']}={c.get('value', '')}")
            for c in resp.get("cookies") or []
            if "name" in c
        ]
    if "content-type" not in seen and content.get("mimeType"):
        pairs.append(("content-type", content["mimeType"]))
    return AnswerView(int(resp.get("status", 0)), pairs, body, url)


def _is_asset(entry: dict[str, Any]) -> bool:
    if entry.get("_resourceType") in _ASSET_TYPES:
        return True
    mime = (entry.get("response", {}).get("content", {}).get("mimeType") or "").lower()
    return entry.get("request", {}).get("method") == "GET" and any(
        t in mime for t in ("text/css", "javascript", "image/", "font/")
    )


def exchange(entry: dict[str, Any], step: str) -> Exchange:
    req = entry["request"]
    headers = [(h["name"], h["value"]) for h in req.get("headers", [])]
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
    post = req.get("postData") or {}
    ctype = ctype or post.get("mimeType", "")
    ex = Exchange(
        step=step, method=req["method"].upper(), url=req["url"], headers=headers, content_type=ctype
    )
    lowered = ctype.lower()
    if "multipart/form-data" in lowered:
        ex.multipart = True
        params = post.get("params")
        if params is not None:
            ex.form = [(p["name"], p.get("value", "")) for p in params if "fileName" not in p]
            ex.files = [p for p in params if "fileName" in p]
    elif post:
        text = post.get("text") or ""
        if "application/x-www-form-urlencoded" in lowered:
            ex.form = parse_qsl(text, keep_blank_values=True)
        elif "json" in lowered:
            try:
                ex.json_body = json.loads(text)
            except ValueError:
                ex.raw_body = text
        else:
            ex.raw_body = text
    ex.answer = _answer(entry, req["url"])
    ex.status = ex.answer.status
    ex.started = _epoch(entry["startedDateTime"])
    ex.ended = ex.started + max(float(entry.get("time") or 0), 0) / 1000
    ex.resource_type = entry.get("_resourceType", "")
    return ex


def step_at(marks: list[dict[str, Any]], t: float, default: str) -> str:
    """The step that was running at `t`: the last one that began at or before it."""
    current = marks[0]["step"] if marks else default
    for m in marks:
        if float(m["start"]) <= t + 0.001:
            current = m["step"]
    return current


def read_recording(service_dir: Path, *, default_step: str = "form") -> Recording:
    """One service's recording folder (`recording.har`, `steps.json`; `../recording.json`)."""
    har_path = service_dir / HAR_FILE
    if not har_path.exists():
        raise ConfigError(
            f"no {HAR_FILE} here (record with `dvcwatch shop --record DIR`)", path=str(service_dir)
        )
    har = _json_file(har_path, "a HAR file")
    try:
        entries = har["log"]["entries"]
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"not a HAR file: no log.entries ({exc})", path=str(har_path)) from None
    if not isinstance(entries, list):
        raise ConfigError("not a HAR file: log.entries is not a list", path=str(har_path))
    meta = _json_file(service_dir / STEPS_FILE, "a recording's steps", missing={})
    index = _json_file(service_dir.parent / INDEX_FILE, "a recording's index", missing={})
    try:
        marks = sorted(meta.get("steps") or [], key=lambda m: float(m["start"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"steps: each needs a step and a start time ({exc!r})", path=str(service_dir / STEPS_FILE)
        ) from None
    exchanges = []
    for n, entry in _entries(entries, har_path):
        try:
            status = int(entry.get("response", {}).get("status", 0) or 0)
            if _is_asset(entry) or status <= 0:  # assets, and requests the browser abandoned
                continue
            exchanges.append(exchange(entry, step_at(marks, _epoch(entry["startedDateTime"]), default_step)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(
                f"not a HAR file: entry {n} cannot be read ({exc!r})", path=str(har_path)
            ) from None
    try:
        return _recording(service_dir, meta, index, exchanges, marks)
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        raise ConfigError(
            f"{STEPS_FILE} or ../{INDEX_FILE} has a value of the wrong kind ({exc!r})", path=str(service_dir)
        ) from None


def _recording(
    service_dir: Path,
    meta: dict[str, Any],
    index: dict[str, Any],
    exchanges: list[Exchange],
    marks: list[dict[str, Any]],
) -> Recording:
    origins = index.get("origins") or {}
    if isinstance(origins, list):  # recordings before named origins: the first is the portal
        origins = {"base": origins[0]} if origins else {}
    return Recording(
        service=meta.get("service") or service_dir.name.split("--")[0],
        exchanges=exchanges,
        citizen={k: str(v) for k, v in (meta.get("citizen") or {}).items()},
        username=meta.get("username"),
        origins={k: v.rstrip("/") for k, v in origins.items()},
        profile=index.get("profile"),
        steps=[m["step"] for m in marks],
        verdict=meta.get("verdict"),
    )


MAX_RECORDING_BYTES = 512 * 1024 * 1024


def _json_file(path: Path, what: str, *, missing: dict[str, Any] | None = None) -> dict[str, Any]:
    """A recording's JSON file as an object; a truncated or foreign file is a ConfigError naming it
    (a recording cut short by a killed `shop --record` is one)."""
    if missing is not None and not path.exists():
        return missing
    # a recording's HAR holds every page and document of a journey: tens of MB is usual, a FIFO or a
    # device named by mistake is not, and neither is a file that would fill the memory
    text = read_input_text(path, limit=MAX_RECORDING_BYTES, what=what)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"not {what}: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"not {what}: a JSON object was expected", path=str(path))
    return data


def _entries(entries: list[Any], har_path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The HAR's entries (numbered from 1, as a person counts them) in the order they started."""
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"not a HAR file: entry {n} is not an object", path=str(har_path))
    try:
        return sorted(
            enumerate(entries, 1),
            key=lambda ne: _epoch(ne[1].get("startedDateTime") or "1970-01-01T00:00:00Z"),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"not a HAR file: a startedDateTime cannot be read ({exc})", path=str(har_path)
        ) from None


def forms_on(answer: AnswerView) -> list[Any]:
    """The HTML forms of an answer (for multipart bodies Chromium did not hand over)."""
    if not answer.is_html or not answer.body:
        return []
    return list(parse_html(answer.body).css("form"))
