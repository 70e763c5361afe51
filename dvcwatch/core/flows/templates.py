"""`${name}` templates: what a flow file writes where a value changes per run, citizen or secret."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from dvcwatch.core.flows.model import TEMPLATE_RE

_ESCAPED = "$${"


class MissingValue(KeyError):
    """A template names a value the replay does not have (an extraction that never happened)."""


@lru_cache(maxsize=4096)
def _parsed(text: str) -> tuple[tuple[str, bool], ...]:
    """A template as (literal, False) and (name, True) pieces: parsed once, rendered many times (a load
    renders the same few hundred templates millions of times)."""
    pieces: list[tuple[str, bool]] = []
    for k, part in enumerate(text.split(_ESCAPED)):
        if k:
            pieces.append(("${", False))
        pos = 0
        for m in TEMPLATE_RE.finditer(part):
            if m.start() > pos:
                pieces.append((part[pos : m.start()], False))
            pieces.append((m.group(1), True))
            pos = m.end()
        if pos < len(part):
            pieces.append((part[pos:], False))
    return tuple(pieces)


Pieces = tuple[tuple[str, bool], ...]


def parse(text: str) -> Pieces:
    """A template's pieces, for a caller that renders it many times (a replay plans its flow once)."""
    return _parsed(text)


def render(
    text: str, lookup: Callable[[str], Any], *, encode: Callable[[str, str], str] | None = None
) -> str:
    """Fill every `${name}`; `$${` stays a literal `${`. `encode(name, value)` lets URLs quote what
    they substitute (a citizen's name in a query string) without quoting the template's own text."""
    return render_pieces(_parsed(text), lookup, encode)


def render_pieces(
    pieces: Pieces, lookup: Callable[[str], Any], encode: Callable[[str, str], str] | None = None
) -> str:
    """`render` on a template parsed beforehand."""
    if len(pieces) == 1 and not pieces[0][1]:
        return pieces[0][0]
    out = []
    for piece, is_name in pieces:
        if not is_name:
            out.append(piece)
            continue
        value = str(lookup(piece))
        out.append(encode(piece, value) if encode else value)
    return "".join(out)


def render_value(value: Any, lookup: Callable[[str], Any]) -> Any:
    """JSON bodies: a leaf that is exactly one `${name}` keeps the extracted value's type (an id the
    answer gave as a number goes back as a number); other strings are rendered as text."""
    if isinstance(value, str):
        m = TEMPLATE_RE.fullmatch(value)
        if m and _ESCAPED not in value:
            return lookup(m.group(1))
        return render(value, lookup)
    if isinstance(value, dict):
        return {k: render_value(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, lookup) for v in value]
    return value


_PLAIN = re.compile(r"[A-Za-z0-9._~-]*")


def url_encode(name: str, value: str) -> str:
    """How a value enters a URL. The base and extracted values are URL text already (a Location, a
    link's path); identity values and codes are data, quoted whole."""
    if name == "base" or _PLAIN.fullmatch(value):
        return value
    if name.startswith(("citizen.", "account.", "secret.")) or name == "otp":
        return quote(value, safe="")
    return quote(value, safe="/:@-._~!$'()*,;%=&?+")


def escape_literal(text: str) -> str:
    """Recorded text that happens to contain `${` is written so the template keeps it literal."""
    return text.replace("${", _ESCAPED)
