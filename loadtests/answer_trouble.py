"""Soft failures in every kind of answer a load request gets: HTML, JSON and text.

A busy portal's API answers 200 with `{"status": "busy", "error": "Hệ thống đang bận"}`: looked for
only in HTML, such answers were counted as successes, and a load test certified exactly the overload it
was meant to find (issue 31). Here one judge reads an answer by its kind:

- HTML: the profile's error page and busy banner (`loadtests.pages`, the core's one matcher);
- JSON: a status field saying busy (`answer_trouble.yaml`), a busy phrase in any string value, or the
  profile's error page or busy banner in its string values (an API that wraps a page fragment);
- text: a busy phrase, or the profile's selectors read over the text (`text=…` ones match there);
- anything else (a PDF, an image) is not read.

A healthy answer costs a few `in` looks: a JSON answer is read only when its bytes hold a busy word or
phrase as it may be written (lower case, capitalised, upper case), an escaped character (`\\u…`, which
could hide one), or a byte string the profile's selectors need; the flow user's replay parses what it
extracts from on its own, and a second parse of every answer would cost a load generator dearly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from dvcwatch.core.yamlconfig import load_model
from loadtests.pages import PageTrouble
from loadtests.shapes.base import Strict

MARKERS_FILE = Path(__file__).with_name("answer_trouble.yaml")
MAX_NODES = 100_000
"""How many values of one JSON answer are looked at: a huge answer is judged on its first ones."""
NOT_JSON = object()
"""What `parse_json` gives for a body that is not JSON."""

Kind = Literal["html", "json", "text", "other"]


class Markers(Strict):
    """`answer_trouble.yaml`: what busy looks like outside HTML."""

    version: Literal[1] = 1
    status_keys: list[str] = Field(default_factory=list, description="JSON fields holding a status")
    busy_values: list[str] = Field(default_factory=list, description="statuses that mean busy or down")
    phrases: list[str] = Field(default_factory=list, description="words said only when busy or down")


def kind_of(content_type: str | list[str] | None, body: bytes) -> Kind:
    """By Content-Type; without one, by the first byte (a page, a JSON document, else text). A header
    sent twice comes as a list from geventhttpclient: read together, so either kind is looked at."""
    ctype = (" ".join(content_type) if isinstance(content_type, list) else content_type or "").lower()
    if "html" in ctype:
        return "html"
    if "json" in ctype:
        return "json"
    if ctype.startswith("text/"):
        return "text"
    if ctype:
        return "other"
    first = body.lstrip()[:1]
    return "html" if first == b"<" else "json" if first in (b"{", b"[") else "text"


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return NOT_JSON


@dataclass(frozen=True)
class AnswerTrouble:
    """The profile's trouble pages and the busy markers, read once; `reason(...)` for each answer."""

    pages: PageTrouble
    status_keys: frozenset[str] = frozenset()
    busy_values: frozenset[str] = frozenset()
    phrases: tuple[str, ...] = ()
    needles: tuple[bytes, ...] = ()
    """What a busy JSON answer's bytes must hold (`_needles`): none of them, nothing to read."""

    @classmethod
    def of(cls, pages: PageTrouble, markers_file: Path = MARKERS_FILE) -> AnswerTrouble:
        markers = load_model(Markers, markers_file)
        values = [v.strip() for v in markers.busy_values if v.strip()]
        phrases = [p.strip().casefold() for p in markers.phrases if p.strip()]
        return cls(
            pages,
            frozenset(k.casefold() for k in markers.status_keys),
            frozenset(v.casefold() for v in values),
            tuple(phrases),
            _needles([*values, *_shared(phrases)]),
        )

    def reason(self, content_type: str | list[str] | None, body: bytes) -> str | None:
        """Why this answer is a soft failure ("busy banner: …", "busy answer: status busy"), or None."""
        kind = kind_of(content_type, body)
        if kind == "json":
            return self.of_json(parse_json(body), body) if body and self.may_be_busy(body) else None
        return self.of_kind(kind, body)

    def of_kind(self, kind: Kind, body: bytes, data: Any = NOT_JSON) -> str | None:
        """As `reason`, for a caller that has told the kind (and parsed the JSON) already."""
        if not body:
            return None
        if kind == "html":
            return self.pages.reason(body)
        if kind == "json":
            return self.of_json(data, body)
        if kind == "text":
            return self.of_text(body)
        return None

    def may_be_busy(self, body: bytes) -> bool:
        """False when this JSON answer cannot say busy: none of the needles, and nothing the profile's
        selectors need (`PageTrouble.sentinels`; a selector with none, such as `text=…`, needs a read)."""
        for needle in self.needles:
            if needle in body:
                return True
        pages = self.pages
        if not pages.checks:
            return False
        return pages.sentinels is None or any(t in body for t in pages.sentinels)

    def of_json(self, data: Any, body: bytes) -> str | None:
        if not self.may_be_busy(body):
            return None
        if data is NOT_JSON:
            return self.of_text(body)  # announced as JSON, and is not: a busy page may say so in words
        strings: list[str] = []
        stack = [data]
        seen = 0
        while stack and seen < MAX_NODES:
            node = stack.pop()
            seen += 1
            if isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(value, str):
                        if (
                            key.casefold() in self.status_keys
                            and value.strip().casefold() in self.busy_values
                        ):
                            return f"busy answer: {key} {value.strip()}"
                        strings.append(value)
                    elif isinstance(value, dict | list):
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, str):
                strings.append(node)
        if not strings:
            return None
        said = self._phrase_in(s.casefold() for s in strings)
        if said:
            return f"busy answer: {said}"
        return self._pages_in(strings, body)

    def of_text(self, body: bytes) -> str | None:
        text = body.decode("utf-8", "replace")
        said = self._phrase_in((text.casefold(),))
        if said:
            return f"busy answer: {said}"
        return self.pages.reason(body) if self.pages.checks else None

    def _phrase_in(self, folded: Any) -> str | None:
        if not self.phrases:
            return None
        for text in folded:
            for phrase in self.phrases:
                if phrase in text:
                    return phrase
        return None

    def _pages_in(self, strings: list[str], body: bytes) -> str | None:
        """The profile's selectors over the answer's strings, read as one page; skipped at once when
        the answer lacks every byte string they need (`PageTrouble.sentinels`)."""
        pages = self.pages
        if not pages.checks:
            return None
        if pages.sentinels is not None and not any(t in body for t in pages.sentinels):
            return None
        return pages.reason("\n".join(strings).encode())


def _needles(words: list[str]) -> tuple[bytes, ...]:
    """Each word as a portal may write it in JSON: lower case, capitalised, upper case; and `\\u`,
    since an escaped character may hide any of them (`"b\\u1eadn"`). Each is one `in` over every
    JSON answer, so they are few: the phrases stand in by the part they share (`_shared`)."""
    out: set[bytes] = {b"\\u"}
    for word in words:
        for form in (word.lower(), word.capitalize(), word.upper()):
            out.add(form.encode())
    return tuple(sorted(out, key=len))


def _shared(phrases: list[str], at_least: int = 4) -> list[str]:
    """The longest part every phrase holds ("hệ thống " for the portals' busy sentences), when it is
    at least `at_least` characters; else the phrases themselves."""
    if len(phrases) < 2:
        return phrases
    shortest = min(phrases, key=len)
    for size in range(len(shortest), at_least - 1, -1):
        for start in range(len(shortest) - size + 1):
            part = shortest[start : start + size]
            if part.strip() and all(part in p for p in phrases):
                return [part]
    return phrases
