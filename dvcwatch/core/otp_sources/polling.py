"""Polling an HTTP endpoint until a fresh code shows up: the sandbox's test endpoint and SMS forwarders."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

from dvcwatch.core.credentials import Secret
from dvcwatch.core.otp_sources.base import SIX_DIGITS, OtpRequest, OtpUnavailable, extract_code


def code_in(
    body: str, content_type: str, regex: str = SIX_DIGITS, json_field: str | None = None
) -> str | None:
    """The code in an OTP endpoint's answer: in `json_field` of a JSON answer (or anywhere in it),
    else anywhere in the text; shared by the polling sources and the load test's citizens."""
    text = body
    if "json" in content_type or body.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if data is not None:
            picked = _dig(data, json_field) if json_field else data
            if picked is None:
                return None
            text = picked if isinstance(picked, str) else json.dumps(picked)
    return extract_code(text, regex)


def _dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


class HttpPoller:
    """GETs a URL until a fresh code shows up or the timeout passes."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        poll_interval: float,
        regex: str,
        json_field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.regex = regex
        self.json_field = json_field
        self.headers = dict(headers or {})
        self._used: dict[str, set[str]] = {}  # per filled-in URL: one citizen's codes, or one phone's

    def _code_in(self, body: str, content_type: str) -> str | None:
        return code_in(body, content_type, self.regex, self.json_field)

    async def fetch(self, request: OtpRequest) -> Secret:
        import aiohttp

        url = self.url.format(**request.params())
        used = self._used.setdefault(url, set())
        deadline = time.monotonic() + self.timeout
        last = "no answer yet"
        timeout = aiohttp.ClientTimeout(total=min(10.0, self.timeout))
        async with aiohttp.ClientSession(timeout=timeout, headers=self.headers) as http:
            while True:
                try:
                    async with http.get(url) as resp:
                        body = await resp.text(errors="replace")
                        if resp.status == 200:
                            code = self._code_in(body, resp.headers.get("Content-Type", ""))
                            if code and code not in used:
                                used.add(code)
                                return Secret(code)
                            last = "answered, but with no new code"
                        else:
                            last = f"HTTP {resp.status}"
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    last = type(exc).__name__
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OtpUnavailable(
                        f"OTP source {self.name}: no code within {self.timeout:g} s from "
                        f"{strip_query(url)} (last: {last})"
                    )
                await asyncio.sleep(min(self.poll_interval, left))


def strip_query(url: str) -> str:
    """The URL without its query string, which may carry a phone number or a token."""
    return url.split("?", 1)[0]
