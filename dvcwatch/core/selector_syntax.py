"""Is a profile's selector one Playwright would refuse? Told when the profile is read, without a browser.

A typo in a selector (`div[`, `..x`, `a:has-text(`) used to reach the browser, where every journey failed
at its first look, hours into a sweep; and the probe generator, which reads selectors without a
browser, called it one that "needs a browser". This module tells the three kinds apart:

- refused: Playwright's own parser would throw (unbalanced brackets or quotes, an empty part of a list
  or a `>>` chain, an unknown engine or pseudo-class, CSS the CSS parser cannot read): `problem()`
  says why;
- valid but only a browser can judge it (`role=`, `xpath=`, `:visible`, layout pseudo-classes): the page
  matcher (`dvcwatch.core.page_markers`) says which of those it reads;
- valid and readable without a browser.

The CSS is parsed by lexbor (selectolax's engine, a real CSS parser). It does not know every standard
pseudo-class (`:focus-within`, `:lang()`, `:scope`) nor Playwright's (`:has-text()`, `:visible`), so
those are set aside by name before it parses the rest; a pseudo-class no one defines is refused.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

ENGINES = frozenset(
    {
        "css",
        "text",
        "xpath",
        "role",
        "id",
        "data-testid",
        "data-test-id",
        "data-test",
        "nth",
        "visible",
        "_react",
        "_vue",
    }
)
"""Playwright's selector engines (`engine=body`); `internal:*` ones and `:light` forms too."""

PLAYWRIGHT_PSEUDO = frozenset(
    {
        "has-text",
        "text",
        "text-is",
        "text-matches",
        "visible",
        "nth-match",
        "left-of",
        "right-of",
        "above",
        "below",
        "near",
    }
)
STANDARD_PSEUDO = frozenset(
    [
        "active",
        "after",  # the four legacy pseudo-elements a single colon still names
        "before",
        "first-letter",
        "first-line",
        "any-link",
        "autofill",
        "-webkit-autofill",
        "blank",
        "checked",
        "current",
        "default",
        "defined",
        "dir",
        "disabled",
        "empty",
        "enabled",
        "first",
        "first-child",
        "first-of-type",
        "focus",
        "focus-visible",
        "focus-within",
        "fullscreen",
        "future",
        "has",
        "host",
        "host-context",
        "hover",
        "in-range",
        "indeterminate",
        "invalid",
        "is",
        "lang",
        "last-child",
        "last-of-type",
        "left",
        "link",
        "local-link",
        "modal",
        "muted",
        "not",
        "nth-child",
        "nth-col",
        "nth-last-child",
        "nth-last-col",
        "nth-last-of-type",
        "nth-of-type",
        "only-child",
        "only-of-type",
        "open",
        "optional",
        "out-of-range",
        "past",
        "paused",
        "picture-in-picture",
        "placeholder-shown",
        "playing",
        "popover-open",
        "read-only",
        "read-write",
        "required",
        "right",
        "root",
        "scope",
        "state",
        "target",
        "target-within",
        "user-invalid",
        "user-valid",
        "valid",
        "visited",
        "where",
    ]
)
_NEUTRAL = ":not(#pw)"
"""What a pseudo-class lexbor does not know stands for while the rest is parsed: valid anywhere a
pseudo-class is, alone or on a compound."""
_ENGINE = re.compile(r"^\*?([a-zA-Z_0-9+:-]+?)(:light)?=")
_PROBE = LexborHTMLParser("<p></p>")
_QUOTED = r"""\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*"""
_TEXT_ARGS = {
    "has-text": _QUOTED,
    "text": _QUOTED,
    "text-is": _QUOTED,
    "text-matches": _QUOTED + "(?:," + _QUOTED + ")?",
}
_TEXT_PSEUDO = frozenset(_TEXT_ARGS)
_DIGIT_NAME = re.compile(r"(?<![\w\\-])[#.]-?\d")
_CLOSE = {"(": ")", "[": "]"}


def split_top(text: str, sep: str, *, nested: bool = True) -> list[str]:
    """`text` cut at each `sep` outside quotes (and, when `nested`, brackets and parentheses: a CSS
    list's `,`; a chain's `>>` is cut outside quotes only, as Playwright does), parts stripped and empty
    parts kept (an empty part is a mistake to report, not skip)."""
    out, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([" and nested:
            depth += 1
        elif ch in ")]" and nested:
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            out.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    out.append(text[start:])
    return [p.strip() for p in out]


def _unbalanced(text: str) -> str | None:
    stack: list[str] = []
    quote, i = "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in _CLOSE:
            stack.append(_CLOSE[ch])
        elif ch in ")]" and (not stack or stack.pop() != ch):
            return f"a {ch!r} that closes nothing"
        i += 1
    if quote:
        return f"an unclosed {quote}"
    if stack:
        return f"an unclosed {'(' if stack[-1] == ')' else '['}"
    return None


def problem(selector: str) -> str | None:
    """Why Playwright would refuse `selector`, or None when it is valid (readable or not without a
    browser). Placeholders (`{service}`) are the caller's to fill in first."""
    if not selector.strip():
        return "an empty selector"
    for link in chain(selector):
        if not link:
            return f"an empty part of the >> chain {selector!r}"
        why = _link_problem(link)
        if why:
            return why
    return None


def chain(selector: str) -> list[str]:
    """The links of a `>>` chain (one for a selector that is not a chain)."""
    return split_top(selector, ">>", nested=False)


def engine_of(link: str) -> tuple[str, str]:
    """(engine, body) of one link of a chain, as Playwright reads it: `engine=body`, a quoted text,
    an XPath (`//…`, `..`), else CSS."""
    m = _ENGINE.match(link)
    if m:
        return m.group(1), link[m.end() :].strip()
    if link[:1] in "\"'":
        return "text", link
    if link.startswith(("//", "..")):
        return "xpath", link
    return "css", link


def _link_problem(link: str) -> str | None:
    engine, body = engine_of(link)
    if engine.startswith("internal:"):
        return None
    if engine in ("css", "role", "xpath"):
        unbalanced = _unbalanced(body)
        if unbalanced:
            return f"{unbalanced} in {link!r}"
    if engine not in ENGINES:
        return f"no selector engine {engine!r} in {link!r} (Playwright's: {', '.join(sorted(ENGINES))})"
    if engine == "css":
        return _css_problem(body)
    if engine == "text":
        return _text_problem(body, link)
    if engine == "xpath":
        return _xpath_problem(body)
    if engine == "role" and not re.fullmatch(r"[a-z]+\s*(\[.*\])*", body, re.S):
        return f"not a role selector: {link!r} (role=name[attribute=value])"
    if engine == "visible" and body not in ("true", "false"):
        return f"visible= takes true or false: {link!r}"
    return None


def _text_problem(body: str, link: str) -> str | None:
    m = re.fullmatch(r"/(.*)/([dgimsuvy]*)", body, re.S)
    if m:
        try:
            re.compile(m.group(1))
        except re.error as exc:
            return f"not a regular expression in {link!r}: {exc}"
    return None


def _xpath_problem(body: str) -> str | None:
    """The mistakes that are sure without an XPath parser: `..` run into a name (`..x`), a path ending
    in `/`; words in quotes (`'Đang tải...'`) are not looked at."""
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "''", body)
    if not body or re.search(r"\.\.(?![/\[\])|\s]|$)", bare) or (bare.endswith("/") and bare != "/"):
        return f"not a valid XPath: {body!r}"
    return None


def _css_problem(css: str) -> str | None:
    for alt in split_top(css, ","):
        if not alt:
            return f"an empty part of the list {css!r}"
        neutral, why = _neutralised(alt)
        if why:
            return why
        if _DIGIT_NAME.search(re.sub(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]", "", neutral)):
            return f"an id or class cannot start with a digit: {alt!r}"
        if neutral[:1] in ">+~":  # relative to the scope, as Playwright allows
            neutral = "* " + neutral
        try:
            _PROBE.css(neutral)
        except SelectolaxError:
            return f"not valid CSS: {alt!r}"
    return None


def _neutralised(css: str) -> tuple[str, str | None]:
    """`css` with each pseudo-class lexbor cannot parse (a standard or a Playwright one) replaced by a
    neutral one; the reason when a pseudo-class is unknown or empty."""
    out: list[str] = []
    i, quote, brackets = 0, "", 0
    while i < len(css):
        ch = css[i]
        if ch == "\\":
            out.append(css[i : i + 2])
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            brackets += 1
        elif ch == "]":
            brackets -= 1
        elif ch == ":" and not brackets:
            end, name, args = _pseudo_at(css, i)
            if not name:
                return css, f"a ':' with no name after it in {css!r}"
            if css.startswith("::", i):
                return css, f"Playwright takes no pseudo-element (::{name} in {css!r})"
            if name not in PLAYWRIGHT_PSEUDO and name not in STANDARD_PSEUDO:
                return css, f"no pseudo-class :{name} (in {css!r})"
            if args is not None and not args.strip():
                return css, f":{name}() with nothing in it (in {css!r})"
            if name in _TEXT_PSEUDO and not re.fullmatch(_TEXT_ARGS[name], args or "", re.S):
                return css, f":{name}() takes a quoted text (in {css!r})"
            token = css[i:end]
            out.append(token if _lexbor_reads(token) else _NEUTRAL)
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out), None


def _pseudo_at(css: str, i: int) -> tuple[int, str, str | None]:
    """Where the pseudo-class starting at `css[i]` (`:name`, `::name`, `:name(args)`) ends, its name
    and its arguments (None without parentheses)."""
    j = i + (2 if css.startswith("::", i) else 1)
    m = re.compile(r"-?[A-Za-z_][\w-]*").match(css, j)
    if not m:
        return j, "", None
    name, j = m.group(0).lower(), m.end()
    if j >= len(css) or css[j] != "(":
        return j, name, None
    depth, quote, k = 0, "", j
    while k < len(css):
        ch = css[k]
        if ch == "\\":
            k += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return k + 1, name, css[j + 1 : k]
        k += 1
    return len(css), name, css[j + 1 :]


@lru_cache(maxsize=512)
def _lexbor_reads(pseudo: str) -> bool:
    try:
        _PROBE.css("*" + pseudo)
    except SelectolaxError:
        return False
    return True


_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def check(selector: str) -> str:
    """The selector back when Playwright would take it; ValueError saying why not, for a config's
    validators. The profile's placeholders (`{service}`, `{label}`) are filled with a word first."""
    why = problem(_PLACEHOLDER.sub("x", selector))
    if why:
        raise ValueError(f"invalid selector: {why}")
    return selector


def check_profile_selector(value: Any, field: str) -> Any:
    """A profile's `selectors.<field>` back when valid; ValueError when Playwright would refuse it. A
    string is a Playwright selector, a `{css: …}` mapping's css is CSS; `…_attr` fields name an
    attribute, not a selector."""
    if field.endswith("_attr") or value is None:
        return value
    if isinstance(value, str):
        return check(value) if value.strip() else value
    css = getattr(value, "css", None)
    if isinstance(css, str):
        why = _link_problem("css=" + _PLACEHOLDER.sub("x", css))
        if why:
            raise ValueError(f"invalid selector: {why}")
    return value
