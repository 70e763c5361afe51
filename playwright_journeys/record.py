"""`shop --record DIR`: each journey's HTTP exchange with the portal, kept as a HAR for `flows compile`.

Playwright records the HAR (`record_har_path`, bodies embedded, only the profile's origins), and writes
it when the context closes. What the recorder adds around it:
- the step boundaries (`steps.json`: each step's name and wall-clock start), since a HAR knows requests
  but not which page of the journey they served;
- the recording's synthetic citizen and username (never the password), so the compiler can turn them
  into parameters;
- secrets out: the password becomes `${secret.password}` and each OTP typed becomes `${otp}` before the
  HAR leaves a private temporary directory, so a recording, like a flow file, never holds a secret;
- static assets (stylesheets, scripts, images, fonts) kept apart in `assets.har`: a flow replays pages
  and XHR, not the browser's cache;
- multipart bodies: Chromium leaves a request's postData out of the HAR when it carries a file
  (playwright#6479), so the recorder asks the DevTools protocol for it (Network.getRequestPostData) and
  writes its parts back as HAR `params` (names, values, file names and types; the file bytes are not
  kept, the replay generates its own).

Layout: DIR/recording.json (profile, base URL, origins, when), DIR/<service>/{recording.har, assets.har,
steps.json}. A retried journey keeps its last attempt.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dvcwatch.core.atomic import write_text as write_text_atomic
from dvcwatch.core.credentials import Redactor, Secret
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.identities import Citizen
from dvcwatch.core.profile import Profile
from dvcwatch.core.scratch import private_dir, remove_stale
from playwright_journeys.results import now_iso

RAW_PREFIX = ".dvcwatch-har-"
HAR_FILE = "recording.har"
ASSETS_FILE = "assets.har"
STEPS_FILE = "steps.json"
INDEX_FILE = "recording.json"
PASSWORD_REF = "${secret.password}"
OTP_REF = "${otp}"
_ASSET_TYPES = ("text/css", "javascript", "image/", "font/", "application/font", "application/wasm")
_ASSET_SUFFIXES = (
    ".css",
    ".js",
    ".mjs",
    ".map",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".ico",
    ".woff",
    ".woff2",
    ".ttf",
    ".webp",
)


def refuse_production(profile: Profile) -> None:
    """Recording logs in and submits as a real citizen would: never on production."""
    if profile.environment == "production":
        raise ConfigError(
            "--record is for the sandbox and staging: this profile's environment is production",
            field="environment",
        )


def origin_filter(profile: Profile) -> re.Pattern[str]:
    """Only the portal's own origins (base URL, identity provider, payment …): analytics, CDNs and
    anything else the page loads stay out of the recording."""
    origins = sorted({f"{u.scheme}://{u.netloc}" for u in map(urlsplit, profile.hosts()) if u.netloc})
    return re.compile("^(?:" + "|".join(re.escape(o) for o in origins) + ")(?:[/?#]|$)")


class _Tee(Redactor):
    """The run's redactor, which also tells this journey's recording which OTP codes were typed."""

    def __init__(self, run: Redactor, codes: list[str]) -> None:
        super().__init__()
        self._run, self._codes = run, codes

    def add(self, secret: Secret | str | None) -> None:
        self._run.add(secret)
        super().add(secret)
        if secret is not None:
            self._codes.append(secret.reveal() if isinstance(secret, Secret) else secret)

    def text(self, text: str) -> str:
        return self._run.text(text)

    def bytes(self, data: bytes) -> bytes:
        return self._run.bytes(data)

    def data(self, obj: Any) -> Any:
        return self._run.data(obj)

    def found_in(self, data: bytes) -> bool:
        return self._run.found_in(data)

    def __len__(self) -> int:
        return len(self._run)


@dataclass
class Take:
    """One attempt's recording: where Playwright writes, the step marks, the secrets it saw."""

    key: str
    service: str
    raw_dir: Path
    filter: re.Pattern[str]
    marks: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    bodies: list[tuple[str, str, str]] = field(default_factory=list)  # (method, url, multipart text)
    _pending: set[Any] = field(default_factory=set)

    @property
    def raw_har(self) -> Path:
        return self.raw_dir / "raw.har"

    def har_options(self) -> dict[str, Any]:
        return {
            "record_har_path": str(self.raw_har),
            "record_har_content": "embed",
            "record_har_url_filter": self.filter,
        }

    def redactor(self, run: Redactor) -> Redactor:
        return _Tee(run, self.secrets)

    async def attach(self, context: Any, page: Any) -> None:
        """Listen for requests whose body the HAR will lack (a file inside) and fetch it while the
        browser still holds it."""
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable", {"maxPostDataSize": 20_000_000})

        async def fetch(request_id: str, method: str, url: str) -> None:
            try:
                data = await cdp.send("Network.getRequestPostData", {"requestId": request_id})
            except Exception:  # gone, or a file Chromium cannot give back (flows rebuild it from the form)
                return
            text = data.get("postData", "")
            if data.get("base64Encoded"):
                text = base64.b64decode(text).decode("latin-1")
            self.bodies.append((method, url, text))

        def sent(params: dict[str, Any]) -> None:
            req = params.get("request", {})
            # a navigation's headers here lack Content-Type: every body Chromium withholds is fetched,
            # and fill_multipart takes only the multipart ones
            if not req.get("hasPostData") or not self.filter.match(req.get("url", "")):
                return
            if "postData" in req:
                self.bodies.append((req.get("method", ""), req["url"], req["postData"]))
                return
            task = asyncio.ensure_future(fetch(params["requestId"], req.get("method", ""), req["url"]))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        cdp.on("Network.requestWillBeSent", sent)

    async def settle(self) -> None:
        """Wait for the bodies still being fetched (before the context closes)."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=5)

    def discard(self) -> None:
        """An attempt that did not finish keeps nothing: its raw HAR (with the password) goes."""
        shutil.rmtree(self.raw_dir, ignore_errors=True)

    def mark(self, step: str) -> None:
        """A step begins: requests from now on belong to it (until the next mark)."""
        self.marks.append({"step": step, "start": time.time()})


def check_directory(directory: Path) -> None:
    """Refuse, before any journey, a --record folder that cannot be made or written (one line)."""
    probe = directory / f".dvcwatch-write-test.{os.getpid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--record {directory}: cannot write there ({exc.strerror or exc})") from None


class Recorder:
    def __init__(self, directory: Path, profile: Profile) -> None:
        refuse_production(profile)
        self.directory = Path(directory)
        self.profile = profile
        self.filter = origin_filter(profile)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            remove_stale(self.directory, RAW_PREFIX)
            self._write_index(profile)
        except OSError as exc:
            raise ConfigError(f"--record {directory}: cannot write there ({exc.strerror or exc})") from None

    def _write_index(self, profile: Profile) -> None:
        write_text_atomic(
            self.directory / INDEX_FILE,
            json.dumps(
                {
                    "profile": profile.name,
                    "environment": profile.environment,
                    "base_url": profile.base_url,
                    "origins": {"base": profile.base_url, **profile.origins},
                    "recorded_at": now_iso(),
                },
                ensure_ascii=False,
                indent=2,
            ),
        )

    def start(self, service: str, persona: str, personas: int) -> Take:
        key = service if personas <= 1 else f"{service}--{persona}"
        # 0700, in DIR, not /tmp: the raw HAR holds the password until `keep` scrubs it; one left by a
        # killed run is removed by the next recording into DIR
        raw = private_dir(self.directory, RAW_PREFIX)
        return Take(key, service, raw, self.filter)

    def keep(self, take: Take, who: Citizen, username: str, password: Secret | None, verdict: str) -> None:
        """After the context closed (Playwright wrote the HAR then): scrub, split, write. The raw HAR
        is removed whatever happens."""
        try:
            if not take.raw_har.exists():
                return
            har = json.loads(take.raw_har.read_text(encoding="utf-8"))
            fill_multipart(har, take.bodies)
            har = scrub(har, password, take.secrets)
            pages, assets = split_assets(har)
            out = self.directory / take.key
            out.mkdir(parents=True, exist_ok=True)
            write_text_atomic(out / HAR_FILE, json.dumps(pages, ensure_ascii=False, indent=1))
            write_text_atomic(out / ASSETS_FILE, json.dumps(assets, ensure_ascii=False))
            meta = {
                "service": take.service,
                "verdict": verdict,
                "citizen": who.public_dict(),
                "username": username,
                "steps": take.marks,
            }
            write_text_atomic(out / STEPS_FILE, json.dumps(meta, ensure_ascii=False, indent=2))
        finally:
            shutil.rmtree(take.raw_dir, ignore_errors=True)


def scrub(har: Any, password: Secret | None, codes: list[str]) -> Any:
    """The HAR with the password (in every spelling a form, JSON or HTML gives it) and the OTP codes
    (as whole tokens, so a 6-digit code inside a CCCD stays) replaced by their references."""
    pw = Redactor([password] if password else [], mask=PASSWORD_REF)
    otps = [
        re.compile(rf"(?<![0-9A-Za-z]){re.escape(c)}(?![0-9A-Za-z])")
        for c in sorted({c for c in codes if c and (password is None or c != password.reveal())}, key=len)[
            ::-1
        ]
    ]

    def one(value: Any) -> Any:
        if isinstance(value, str):
            value = pw.text(value)
            for rx in otps:
                value = rx.sub(OTP_REF, value)
            return value
        if isinstance(value, dict):
            return {k: one(v) for k, v in value.items()}
        if isinstance(value, list):
            return [one(v) for v in value]
        return value

    return one(har)


def fill_multipart(har: dict[str, Any], bodies: list[tuple[str, str, str]]) -> None:
    """Give each multipart request the HAR recorded without a body the parts the browser sent
    (matched by method and URL, in order)."""
    left = list(bodies)
    for entry in har.get("log", {}).get("entries", []):
        req = entry.get("request", {})
        ctype = next((h["value"] for h in req.get("headers", []) if h["name"].lower() == "content-type"), "")
        if "multipart/form-data" not in ctype.lower() or req.get("postData"):
            continue
        i = next(
            (
                k
                for k, (m, u, text) in enumerate(left)
                if m == req.get("method") and u == req.get("url") and text.startswith("--")
            ),
            None,
        )
        if i is None:
            continue
        _, _, text = left.pop(i)
        req["postData"] = {"mimeType": ctype, "params": multipart_params(text, ctype), "text": ""}


def multipart_params(text: str, ctype: str) -> list[dict[str, Any]]:
    """HAR params from a multipart body (decoded as latin-1, so bytes survive); a file's bytes are
    replaced by their size."""
    m = re.search(r"boundary=\"?([^\";]+)", ctype)
    if not m:
        return []
    out: list[dict[str, Any]] = []
    for part in text.split("--" + m.group(1)):
        head, sep, body = part.partition("\r\n\r\n")
        if not sep:
            continue
        disp = re.search(r'name="([^"]*)"(?:; filename="([^"]*)")?', head)
        if not disp:
            continue
        body = body[:-2] if body.endswith("\r\n") else body
        if disp.group(2) is not None:
            ct = re.search(r"(?i)content-type:\s*([^\r\n]+)", head)
            out.append(
                {
                    "name": disp.group(1),
                    "fileName": disp.group(2).encode("latin-1").decode("utf-8", "replace"),
                    "contentType": ct.group(1).strip() if ct else "application/octet-stream",
                    "_size": len(body),
                }
            )
        else:
            out.append({"name": disp.group(1), "value": body.encode("latin-1").decode("utf-8", "replace")})
    return out


def is_asset(entry: dict[str, Any]) -> bool:
    mime = (entry.get("response", {}).get("content", {}).get("mimeType") or "").lower()
    path = urlsplit(entry.get("request", {}).get("url", "")).path.lower()
    if entry.get("request", {}).get("method", "GET") != "GET":
        return False
    return any(t in mime for t in _ASSET_TYPES) or path.endswith(_ASSET_SUFFIXES)


def _started(entry: dict[str, Any]) -> float:
    """When a request started; ISO strings with and without fractions do not sort as text."""
    text = entry.get("startedDateTime") or "1970-01-01T00:00:00Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def split_assets(har: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    log = har.get("log", {})
    entries = sorted(log.get("entries", []), key=_started)
    pages = [e for e in entries if not is_asset(e)]
    assets = [e for e in entries if is_asset(e)]
    return (
        {"log": {**log, "entries": pages}},
        {"log": {**log, "entries": assets}},
    )
