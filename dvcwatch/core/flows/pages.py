"""Reading answers: extractions, and error pages / busy banners found with the profile's own selectors.

HTML is parsed with selectolax (a C parser, fast enough for a load generator's hot path). Profiles write
Playwright selector strings; the forms that mean something without a browser are understood here:
plain CSS, `css=…`, `text=…` / `text="…"` (the page's text contains it), `A, B` lists and
`:has-text("…")` on a CSS selector.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from dvcwatch.core.flows.model import Extract

_HAS_TEXT = re.compile(r""":has-text\((["'])(.*?)\1\)""")


def parse_html(body: bytes | str) -> HTMLParser:
    return HTMLParser(body if isinstance(body, str) else body.decode("utf-8", "replace"))


def _visible(node: Node) -> bool:
    """No browser, no layout: an element counts as shown unless it or an ancestor says it is hidden
    in its own markup (`hidden`, `aria-hidden`, an inline display:none)."""
    current: Node | None = node
    while current is not None and current.tag not in ("html", "-undef"):
        attrs = current.attributes
        style = (attrs.get("style") or "").replace(" ", "").lower()
        if "hidden" in attrs or attrs.get("aria-hidden") == "true" or "display:none" in style:
            return False
        current = current.parent
    return True


_NOT_SHOWN = "script, style, template, noscript, [hidden], [aria-hidden=true]"


def _page_text(tree: HTMLParser) -> str:
    """The text a citizen reads: not scripts (a page's JS may hold the busy message it shows only on
    a failed fetch), not styles, not hidden elements. Computed on a copy, the tree stays whole."""
    body = tree.body
    if body is None:
        return ""
    shown = parse_html(body.html or "")
    for node in shown.css(_NOT_SHOWN):
        node.decompose()
    for node in shown.css("[style]"):
        if "display:none" in (node.attributes.get("style") or "").replace(" ", "").lower():
            node.decompose()
    root = shown.body
    return " ".join((root.text(separator=" ") if root else "").split())


def find_selector(tree: HTMLParser, selector: str) -> bool:
    """Whether a profile selector matches something shown on this page."""
    for one in _split_list(selector):
        one = one.strip()
        if not one:
            continue
        if one.startswith("text="):
            wanted = one[5:].strip()
            if len(wanted) >= 2 and wanted[0] == wanted[-1] and wanted[0] in "\"'":
                wanted = wanted[1:-1]
            if " ".join(wanted.split()) in _page_text(tree):
                return True
            continue
        css = one[4:] if one.startswith("css=") else one
        texts = [m.group(2) for m in _HAS_TEXT.finditer(css)]
        css = _HAS_TEXT.sub("", css) or "*"
        try:
            nodes = tree.css(css)
        except Exception:  # selectolax raises on selectors it cannot parse: not a match
            continue
        for node in nodes:
            if not _visible(node):
                continue
            text = " ".join(node.text(separator=" ").split())
            if all(t in text for t in texts) and (texts or text or node.tag in ("img", "input")):
                return True
    return False


def _split_list(selector: str) -> list[str]:
    """`A, B` at the top level (not inside quotes or parentheses)."""
    out, depth, quote_char, start = [], 0, "", 0
    for i, ch in enumerate(selector):
        if quote_char:
            if ch == quote_char:
                quote_char = ""
        elif ch in "\"'":
            quote_char = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0 and not selector[start:i].lstrip().startswith("text="):
            out.append(selector[start:i])
            start = i + 1
    out.append(selector[start:])
    return out


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

    def __init__(self, status: int, headers: dict[str, str], body: bytes, url: str) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
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
