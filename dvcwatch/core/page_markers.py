"""Is this page the portal's error page or its "system busy" banner? Told with the profile's own selectors.

A busy portal often answers 200 with a page that says "Hệ thống đang bận": counted as a success, a load
test would certify exactly the overload it was meant to find, and a probe would call the portal healthy.
Load (loadtests), Replay (dvcwatch.core.flows) and probes (`must_not_match`) all ask this one module, so
they agree on what an error page is. The profile names those pages the way journeys find them
(`selectors.error_page`, `selectors.error_banner`): plain CSS (`div.qua-tai`), Playwright's `css=…`,
`text=…` (case-insensitive substring; `text="…"` exact; `text=/re/i`), CSS with Playwright's
`:has-text("…")`, `:text("…")`, `:text-is("…")` on the last compound, lists of those (`div.loi,
.alert:has-text("Lỗi"), #loi`, each part judged on its own) and `>>` chains. What only a browser can
judge (`:visible`, layout pseudo-classes, `role=`, `xpath=`) is not read here: `split_readable` says
which parts of a list those are, and `dvcwatch.core.selector_syntax` tells them from invalid ones.

One rule for what a citizen sees, whichever form the selector takes: scripts, styles, templates and
noscript are not shown (a page's script may hold the busy message it writes only when a fetch fails), nor
is an element hidden in its own markup (`hidden`, `aria-hidden="true"`, an inline `display:none`), nor an
empty placeholder (an element with no text and no image or input in it), the way a browser would not
call it visible. The HTML is parsed with selectolax (lexbor), and only when a cheap look at the bytes
says the page may show a selector: a healthy page costs about a microsecond. A selector selectolax
cannot read is refused when the run or config is loaded, never silently left to match nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.selector_syntax import chain, engine_of, problem, split_top

_PSEUDO = re.compile(r':(has-text|text-is|text)\(\s*(?:"([^"]*)"|\'([^\']*)\')\s*\)\s*$')
_SKIPPED = ("script", "style", "template", "noscript")
_HIDDEN = '[hidden], [aria-hidden="true"], [style*="display"]'
_REPLACED = ("img", "input", "svg", "video", "canvas", "iframe", "object", "embed", "select", "textarea")
_HAS_REPLACED = ", ".join(_REPLACED)

Matcher = Callable[[LexborHTMLParser], bool]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _texts(node: LexborNode) -> str:
    return _norm(node.text(separator=" ") or "")


def _text_test(spec: str) -> Callable[[str], bool]:
    """Playwright's text engine: `"exact"`, `/regex/flags`, or a case-insensitive substring."""
    if len(spec) >= 2 and spec[0] == spec[-1] and spec[0] in "\"'":
        exact = _norm(spec[1:-1])
        return lambda text: text == exact
    m = re.fullmatch(r"/(.*)/([imsx]*)", spec, re.S)
    if m:
        flags = 0
        for f in m.group(2):
            flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X}[f]
        rx = re.compile(m.group(1), flags)
        return lambda text: rx.search(text) is not None
    needle = _norm(spec).casefold()
    return lambda text: needle in text.casefold()


def _css_nodes(css: str) -> Callable[[Sequence[LexborNode]], list[LexborNode]]:
    """One link of a `>>` chain: CSS, optionally ending in a Playwright text pseudo-class; a list whose
    parts use one is judged part by part (lexbor reads a plain list itself)."""
    alternatives = split_top(css, ",")
    if len(alternatives) > 1 and any(_PSEUDO.search(a) for a in alternatives):
        finders = [_css_nodes(a) for a in alternatives]

        def find_any(scopes: Sequence[LexborNode]) -> list[LexborNode]:
            out: list[LexborNode] = []
            for finder in finders:
                out.extend(finder(scopes))
            return out

        return find_any
    test: Callable[[str], bool] | None = None
    m = _PSEUDO.search(css)
    if m:
        text = m.group(2) if m.group(2) is not None else m.group(3)
        css = css[: m.start()] or "*"
        if m.group(1) == "text-is":
            exact = _norm(text)
            test = lambda t: t == exact  # noqa: E731
        else:
            needle = _norm(text).casefold()
            test = lambda t: needle in t.casefold()  # noqa: E731
    try:
        LexborHTMLParser("<p></p>").css(css)
    except SelectolaxError:
        raise ValueError(f"{css!r} needs a browser: {_READS}") from None

    def find(scopes: Sequence[LexborNode]) -> list[LexborNode]:
        out: list[LexborNode] = []
        for scope in scopes:
            out.extend(n for n in scope.css(css) if test is None or test(_texts(n)))
        return out

    return find


def _text_nodes(spec: str) -> Callable[[Sequence[LexborNode]], list[LexborNode]]:
    test = _text_test(spec)

    def find(scopes: Sequence[LexborNode]) -> list[LexborNode]:
        # the smallest elements whose text matches, like Playwright's text engine
        out: list[LexborNode] = []
        for scope in scopes:
            for n in scope.css("*"):
                if n.tag in _SKIPPED or not test(_texts(n)):
                    continue
                if not any(test(_texts(c)) for c in n.iter() if c.tag not in _SKIPPED):
                    out.append(n)
        return out

    return find


def _text_within(spec: str) -> Callable[[Sequence[LexborNode]], list[LexborNode]]:
    """The last link of a chain, when it is a plain substring: whether a scope's text holds it is the
    whole question, and one look at the scope's text answers it (an exact text or an anchored pattern
    is about one element, so those look element by element)."""
    test = _text_test(spec)
    return lambda scopes: [s for s in scopes if test(_texts(s))]


def compile_selector(selector: str) -> Matcher:
    """A test "does this page show `selector`"; ValueError for one selectolax cannot read."""
    links = []
    parts = chain(selector)
    for i, part in enumerate(parts):
        part = part.strip()
        if not part:
            raise ValueError(f"empty part in {selector!r}")
        if part.startswith("text="):
            spec = part[5:].strip()
            substring = not re.fullmatch(r"([\"']).*\1|/.*/[imsx]*", spec, re.S)
            last = i == len(parts) - 1
            links.append(_text_within(spec) if last and substring else _text_nodes(spec))
        elif part.startswith("css="):
            links.append(_css_nodes(part[4:].strip()))
        elif len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'":
            links.append(_text_nodes(part))  # Playwright reads a quoted selector as exact text
        else:
            links.append(_css_nodes(part))

    def found(tree: LexborHTMLParser) -> bool:
        root = tree.root
        if root is None:
            return False
        scopes: list[LexborNode] = [root]
        for find in links:
            scopes = find(scopes)
            if not scopes:
                return False
        return any(_shown(n) for n in scopes)

    return found


def _shown(node: LexborNode) -> bool:
    """An element a browser would draw: some text, or an image or a field in it (an empty placeholder
    the page's script fills only on failure is not the banner)."""
    if node.tag in _REPLACED or (node.text(deep=True) or "").strip():
        return True
    return node.css_first(_HAS_REPLACED) is not None


def _without_hidden(tree: LexborHTMLParser) -> LexborHTMLParser:
    """The page as shown: what cannot be seen taken out (see the module's rule)."""
    tree.strip_tags(list(_SKIPPED))
    for node in tree.css(_HIDDEN):
        attrs = node.attributes
        style = (attrs.get("style") or "").replace(" ", "").lower()
        if "hidden" in attrs or attrs.get("aria-hidden") == "true" or "display:none" in style:
            node.decompose()
    return tree


_READS = "without a browser, pages are judged by CSS, text=, :has-text()/:text-is() and >> chains"


def check_selector(selector: str) -> str:
    """The selector back when the matcher reads it; ValueError when not, saying whether it is invalid
    (Playwright would refuse it too) or needs a browser: for config validators, so a typo is refused
    when the file is read."""
    why = problem(selector)
    if why:
        raise ValueError(f"invalid selector: {why}")
    compile_selector(selector)
    return selector


def split_readable(selector: str) -> tuple[str | None, tuple[str, ...]]:
    """(what the matcher reads of a valid `selector`, the parts only a browser can judge). A CSS list's
    parts are judged one by one, so `div.loi, div:visible` keeps `div.loi` and names `div:visible`;
    any other selector is read whole or not at all."""
    try:
        compile_selector(selector)
        return selector, ()
    except ValueError:
        pass
    links = chain(selector)
    if len(links) == 1 and engine_of(links[0]) == ("css", links[0]):
        kept, dropped = [], []
        for part in split_top(links[0], ","):
            try:
                compile_selector(part)
                kept.append(part)
            except ValueError:
                dropped.append(part)
        return (", ".join(kept) or None), tuple(dropped)
    return None, (selector,)


# -- a cheap look first: most pages are healthy, and parsing each one would cost a load generator
# as much as the request itself (benchmarks/load_generator.py). A selector can only match a page whose
# bytes hold its class names, ids and attribute values, and whose text holds its words; only a page
# that passes that look is parsed.

_PARENS = re.compile(r":[\w-]+\((?:[^()]|\([^()]*\))*\)")
_ATTR = re.compile(r"""\[\s*([\w-]+)\s*(?:[~|^$*]?=\s*(?:"([^"]*)"|'([^']*)'|([^\]\s]+)))?\s*[is]?\s*\]""")
_CLASS_ID = re.compile(r"[.#](-?[_a-zA-Z][\w-]*)")
Needs = (
    tuple[tuple[bytes, ...], tuple[str, ...]] | None
)  # bytes to hold, words the text must hold; None: parse


def _split_list(css: str) -> list[str]:
    """`a, b` → [a, b], leaving commas inside quotes, brackets and parentheses alone."""
    return [p for p in split_top(css, ",") if p]


def _css_needs(css: str) -> Needs:
    words: tuple[str, ...] = ()
    m = _PSEUDO.search(css)
    if m:
        text = m.group(2) if m.group(2) is not None else m.group(3)
        words = tuple(_norm(text).casefold().split())
        css = css[: m.start()]
    plain = _PARENS.sub(" ", css)  # what :not(…) or :has(…) names need not be on the page
    tokens = [(a.group(2) or a.group(3) or a.group(4) or a.group(1)).encode() for a in _ATTR.finditer(plain)]
    tokens += [c.group(1).encode() for c in _CLASS_ID.finditer(_ATTR.sub(" ", plain))]
    return tuple(t for t in tokens if t), words


def _text_needs(spec: str) -> Needs:
    if re.fullmatch(r"/.*/[imsx]*", spec, re.S):
        return None
    if len(spec) >= 2 and spec[0] == spec[-1] and spec[0] in "\"'":
        spec = spec[1:-1]
    return (), tuple(_norm(spec).casefold().split())


def _link_needs(part: str) -> list[Needs]:
    """The alternatives one link of a chain may be met by (a CSS list gives several)."""
    if part.startswith("text="):
        return [_text_needs(part[5:].strip())]
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'":
        return [_text_needs(part)]
    css = part[4:].strip() if part.startswith("css=") else part
    return [_css_needs(one) for one in _split_list(css)]


def _prefilter(selector: str) -> Callable[[bytes, Callable[[], str]], bool]:
    """False when the page cannot show `selector`; True when it may (then the page is parsed)."""
    links = [_link_needs(p) for p in chain(selector)]

    def met(needs: Needs, body: bytes, text: Callable[[], str]) -> bool:
        if needs is None:
            return True
        tokens, words = needs
        return all(t in body for t in tokens) and (not words or all(w in text() for w in words))

    return lambda body, text: all(any(met(n, body, text) for n in alts) for alts in links)


TROUBLE = (("error_page", "error page"), ("error_banner", "busy banner"))


def _sentinels(selectors: Sequence[str | None]) -> tuple[bytes, ...] | None:
    """One needed byte string per alternative (its longest), or None when some alternative needs none
    (a text= selector, a bare tag). Looked for one by one with `in`, not as one regex alternation:
    CPython's `re` tries an alternation at every offset (~13 µs on a 2 KB page, ~730 µs on 100 KB)
    where `bytes.__contains__` skips through the page (~1 µs, ~80 µs): on a load's healthy pages
    this search is the whole check, once per answer."""
    needed: set[bytes] = set()
    for sel in selectors:
        if not isinstance(sel, str) or not sel.strip():
            continue
        for part in chain(sel)[:1]:  # the first link of a chain must match for any to
            for alt in _link_needs(part):
                if alt is None or not alt[0]:
                    return None
                needed.add(max(alt[0], key=len))
    if not needed:
        return None
    shared = _shared_part(needed)
    return (shared,) if shared is not None else tuple(sorted(needed))


SHARED_AT_LEAST = 5
"""A part every sentinel contains stands in for them when at least this long: one pass over the page
instead of one per sentinel (`error-` for `error-page` and `error-banner`). A shorter one would be
found on most healthy pages and send each of them on to the slower looks."""


def _shared_part(needed: set[bytes]) -> bytes | None:
    """The longest byte string that every sentinel contains, if long enough to stand in for them."""
    if len(needed) < 2:
        return None
    shortest = min(needed, key=len)
    for size in range(len(shortest), SHARED_AT_LEAST - 1, -1):
        for start in range(len(shortest) - size + 1):
            part = shortest[start : start + size]
            if all(part in other for other in needed):
                return part
    return None


@dataclass(frozen=True)
class PageTrouble:
    """The profile's error-page and busy-banner selectors, read once; `reason(body)` for each page."""

    checks: tuple[tuple[str, Matcher], ...]
    looks: tuple[Callable[[bytes, Callable[[], str]], bool], ...] = ()
    sentinels: tuple[bytes, ...] | None = None
    """A look for a few byte strings for the whole profile, when every way a selector can match needs some bytes on the
    page (a class name, an id, an attribute value): no hit, no trouble — the healthy page's cost."""

    unseen: tuple[str, ...] = ()
    """The parts of the profile's selector lists only a browser can judge (`selectors.error_page:
    div:visible`), left out of `checks` for the caller to name."""

    @classmethod
    def of(cls, selectors: object, *, source: str | None = None) -> PageTrouble:
        """From a profile's `selectors` (error_page, error_banner). An invalid one, or one of which
        nothing is read without a browser, is a ConfigError; a list's parts only a browser judges are
        left out and named in `unseen`."""
        named, unseen = [], []
        for key, what in TROUBLE:
            sel = getattr(selectors, key, None)
            if not isinstance(sel, str) or not sel.strip():
                continue
            try:
                check_selector(sel)
                kept: str | None = sel
            except ValueError as exc:
                kept, dropped = split_readable(sel) if problem(sel) is None else (None, ())
                if kept is None:
                    raise ConfigError(str(exc), path=source, field=f"selectors.{key}") from None
                unseen += [f"selectors.{key}: {part}" for part in dropped]
            named.append((f"{what}: {sel}", kept))
        trouble = page_trouble(tuple(named))
        return replace(trouble, unseen=tuple(unseen)) if unseen else trouble

    @classmethod
    def named(cls, named: Sequence[tuple[str, str]]) -> PageTrouble:
        """From (reason, selector) pairs, tried in order; ValueError for a selector selectolax cannot read."""
        pairs = [(name, sel) for name, sel in named if sel and sel.strip()]
        return cls(
            tuple((name, compile_selector(sel)) for name, sel in pairs),
            tuple(_prefilter(sel) for _, sel in pairs),
            _sentinels([sel for _, sel in pairs]),
        )

    def reason(self, body: bytes) -> str | None:
        """Which of the profile's trouble pages this HTML is ("busy banner: div.qua-tai"), or None."""
        if not self.checks or not body:
            return None
        if self.sentinels is not None:
            for t in self.sentinels:  # a plain loop: any() over a generator costs more than these few `in`s
                if t in body:
                    break
            else:
                return None
        folded: list[str] = []

        def text() -> str:  # the page's characters, entities decoded, case folded; once per page
            if not folded:
                decoded = body.decode("utf-8", "replace")
                folded.append((html.unescape(decoded) if "&" in decoded else decoded).casefold())
            return folded[0]

        if self.looks and not any(look(body, text) for look in self.looks):
            return None
        tree = _without_hidden(LexborHTMLParser(body))
        for name, found in self.checks:
            if found(tree):
                return name
        return None


@lru_cache(maxsize=256)
def page_trouble(named: tuple[tuple[str, str], ...]) -> PageTrouble:
    """`PageTrouble.named`, compiled once per set of selectors: a load starts thousands of replays with
    the same profile's selectors, and compiling them is the costly part."""
    return PageTrouble.named(named)
