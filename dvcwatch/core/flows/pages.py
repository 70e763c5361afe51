"""Reading answers: what a flow extracts from them (error pages and busy banners are told by the core's
one matcher, `dvcwatch.core.page_markers`, shared with load and probes).

HTML is parsed with selectolax (a C parser, fast enough for a load generator's hot path), and only when
an extraction asks for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any
from urllib.parse import unquote, urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from dvcwatch.core.flows.model import Extract


def parse_html(body: bytes | str) -> HTMLParser:
    return HTMLParser(body if isinstance(body, str) else body.decode("utf-8", "replace"))


def json_path(data: Any, path: str) -> Any:
    """`data.items.0.id`: keys and list indexes; KeyError when absent."""
    current = data
    for part in path.split(".") if path else []:
        if isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                raise KeyError(path)
            current = current[int(part)]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            raise KeyError(path)
    return current


def _whole(base: str, location: str) -> str:
    """urljoin's answer, without its cost for the two usual cases: absolute, and absolute-path."""
    if location.startswith(("http://", "https://")):
        return location
    if location.startswith("/") and not location.startswith("//") and "/../" not in location:
        scheme, _, rest = base.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}{location}"
    return urljoin(base, location)


class AnswerView:
    """One answer, parsed at most once whatever asks for it."""

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
        url: str,
    ) -> None:
        """`headers` as a mapping or as (name, value) pairs; a multi-valued mapping (aiohttp's,
        geventhttpclient's, http.client's) gives every `Set-Cookie` through `items()`."""
        self.status = status
        pairs = headers.items() if hasattr(headers, "items") else headers
        self.headers: dict[str, str] = {}
        self.set_cookies: list[str] = []
        for k, v in pairs:  # type: ignore[union-attr]
            low = k.lower()
            if low == "set-cookie":
                self.set_cookies.append(v)
            self.headers[low] = v
        self.body = body
        self.url = url
        self._tree: HTMLParser | None = None
        self._json: Any = None
        self._json_read = False

    @property
    def is_html(self) -> bool:
        ctype = self.headers.get("content-type", "")
        return "html" in ctype or (not ctype and self.body.lstrip()[:1] == b"<")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def tree(self) -> HTMLParser:
        if self._tree is None:
            self._tree = parse_html(self.body)
        return self._tree

    @cached_property
    def cookies(self) -> dict[str, str]:
        """Name → value as this answer's `Set-Cookie` headers set them (the last one wins); read once,
        however many values the compiler looks for in this answer."""
        out: dict[str, str] = {}
        for line in (one for header in self.set_cookies for one in header.split("\n")):
            pair = line.split(";", 1)[0]
            name, eq, value = pair.partition("=")
            if eq and name.strip():
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                out[name.strip()] = value
        return out

    @property
    def json(self) -> Any:
        if not self._json_read:
            self._json_read = True
            try:
                self._json = json.loads(self.body)
            except ValueError:
                self._json = None
        return self._json

    def extract(self, rule: Extract) -> Any:
        """The rule's value from this answer, or None when the answer does not have it."""
        value: Any
        if rule.source == "html":
            node = self.tree.css_first(rule.expr) if self.body else None
            if node is None:
                return None
            value = node.attributes.get(rule.attr) if rule.attr else node.text()
        elif rule.source == "json":
            try:
                value = json_path(self.json, rule.expr)
            except KeyError:
                return None
            if isinstance(value, dict | list):
                return None
        elif rule.source == "header":
            value = self.headers.get(rule.expr.lower())
            if value is not None and rule.expr.lower() == "location":
                value = _whole(self.url, value)  # a relative redirect, as the whole URL it leads to
        elif rule.source == "cookie":
            value = self.cookies.get(rule.expr)
            if value is not None and rule.attr != "raw":
                value = unquote(value)
        elif rule.source == "url":
            value = self.url
        else:
            m = re.search(rule.expr, self.text)
            value = m.group(1) if m else None
        if value is None:
            return None
        if rule.regex is not None:
            m = re.search(rule.regex, str(value))
            return m.group(1) if m else None
        return value
