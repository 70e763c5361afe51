"""Automatic correlation: where a value a request sends came from.

A value the browser sent is, in this order:
- a reference the recorder already put there (`${secret.password}`, `${otp}`): kept;
- one of the recording citizen's identity values (CCCD, name, birth date, phone …) or the account's
  username: a parameter, `${citizen.cccd}`, `${account.username}`;
- found in an earlier answer: an extraction from that answer, `${name}`. Structural places are
  preferred, searched from the newest answer back — a redirect's Location, a cookie the answer set
  (double-submit anti-forgery: a script copies the `XSRF-TOKEN` cookie into an `X-XSRF-TOKEN` header),
  a JSON leaf, a named form control (`input[name="__RequestVerificationToken"]`) — and only then the
  text itself, by a regular expression with left and right boundaries (LoadRunner's way). Every
  candidate is tried on the recorded answer with the very code replay uses (`AnswerView.extract`) and
  kept only if it gives back the recorded value;
- otherwise a literal (what a person typed or chose: it is the same for every citizen).

Only token-like values are searched in answers (no spaces, 4+ characters, a digit or mixed case):
words such as `thanh-toan` or `on` are in every page and mean nothing there. A form field whose
name is a hidden control of an earlier page is always correlated, whatever its value.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from dvcwatch.core.flows.har import Exchange
from dvcwatch.core.flows.model import Extract
from dvcwatch.core.flows.pages import AnswerView

_LOCATION_REGEX_MAX = 3
_BOUNDARY_STEPS = (6, 12, 24, 48)
_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?|localhost(?::\d+)?|:\d{2,5}(?=/)")
CITIZEN_ORDER = (
    "cccd",
    "full_name",
    "birth_date",
    "birth_date_iso",
    "phone",
    "email",
    "address",
    "sex_vi",
    "ward",
    "district",
    "birth_province",
)


def tokenish(value: str) -> bool:
    if len(value) < 4 or any(c.isspace() for c in value):
        return False
    has_digit = any(c.isdigit() for c in value)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return has_digit or (mixed and len(value) >= 8)


def identity_values(citizen: dict[str, str]) -> dict[str, str]:
    """Value → parameter name, with the derived spellings forms use (ISO birth date)."""
    values = dict(citizen)
    if "birth_date" in values and values["birth_date"].count("/") == 2:
        d, m, y = values["birth_date"].split("/")
        values["birth_date_iso"] = f"{y}-{m}-{d}"
    out: dict[str, str] = {}
    for key in CITIZEN_ORDER:
        v = values.get(key)
        if v and v not in out:
            out[v] = f"citizen.{key}"
    return out


@dataclass
class Source:
    """An extraction made on one answer (index into the exchanges), known by name."""

    index: int
    rule: Extract
    value: str
    person: bool = False  # from the profile's flows.extract: it wins over what was found automatically


@dataclass
class Correlator:
    exchanges: list[Exchange]
    citizen: dict[str, str]
    username: str | None
    person_rules: list[Extract] = field(default_factory=list)
    literal_fields: set[str] = field(default_factory=set)
    sources: list[Source] = field(default_factory=list)
    params: set[str] = field(default_factory=set)
    _names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._identity = identity_values(self.citizen)

    # --- naming ---------------------------------------------------------------------------------
    def _name(self, hint: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", hint).strip("_").lower() or "value"
        if base[0].isdigit():
            base = f"v_{base}"
        base = base[:40]
        name, n = base, 2
        while name in self._names or name in ("base", "otp"):
            name, n = f"{base}_{n}", n + 1
        self._names.add(name)
        return name

    # --- the one entry point --------------------------------------------------------------------
    def template(self, value: str, before: int, *, hint: str, field_name: str | None = None) -> str | None:
        """What to write for `value`, sent by exchange `before`: `${...}` or None for a literal."""
        if "${" in value and re.fullmatch(r"(?:[^$]|\$\{(?:secret\.password|otp)\})*", value):
            return value  # the recorder's references
        if field_name is not None and field_name in self.literal_fields:
            return None
        if field_name is not None and value and self._password_box(field_name, before):
            return "${secret.password}"  # a HAR not made by the recorder still never gives its password
        if self.username and value == self.username and value not in self._identity:
            return "${account.username}"
        if value in self._identity:
            if self.username and value == self.username and self.exchanges[before].step in ("login", "otp"):
                return "${account.username}"
            self.params.add(self._identity[value])
            return "${" + self._identity[value] + "}"
        src = self.find(value, before, hint=hint, field_name=field_name)
        return "${" + src.rule.name + "}" if src else None

    # --- search -----------------------------------------------------------------------------------
    def find(self, value: str, before: int, *, hint: str, field_name: str | None = None) -> Source | None:
        for src in reversed(self.sources):  # a person's rule already gave this value: the same name
            if src.person and src.value == value and src.index < before:
                return src
        for i in range(before - 1, -1, -1):
            for rule in self.person_rules:
                if _gives(self.exchanges[i].answer, rule, value):
                    named = rule.model_copy(update={"name": self._name(rule.name)})
                    self.sources.append(Source(i, named, value, person=True))
                    return self.sources[-1]
        for src in reversed(self.sources):  # already extracted with this value: the same name
            if src.value == value and src.index < before and (tokenish(value) or src.rule.name == field_name):
                return src
        hidden = field_name is not None and self._hidden_name(field_name, before)
        if not tokenish(value) and not hidden:
            return None
        for i in range(before - 1, -1, -1):
            rule = self._structural(self.exchanges[i], value, hint, field_name)
            if rule is not None:
                return self._keep(i, rule, value)
        for i in range(before - 1, -1, -1):
            rule = self._in_text(self.exchanges[i], value, hint)
            if rule is not None:
                return self._keep(i, rule, value)
        return None

    def redirect_to(self, url: str, before: int, *, hint: str) -> Source | None:
        """The newest earlier redirect that led to `url`: the whole URL is its Location."""
        for src in reversed(self.sources):
            if src.value == url and src.rule.source == "header" and src.rule.regex is None:
                return src
        for i in range(before - 1, -1, -1):
            ex = self.exchanges[i]
            if ex.answer is not None and ex.location == url:
                return self._keep(i, Extract(name=self._name(hint), source="header", expr="Location"), url)
        return None

    def _keep(self, index: int, rule: Extract, value: str) -> Source:
        src = Source(index, rule, value)
        self.sources.append(src)
        return src

    def _password_box(self, field_name: str, before: int) -> bool:
        """Whether an earlier page had a password box of this name (the field is the password)."""
        box = 'input[type="password"]' + _by_name(field_name)
        for ex in self.exchanges[:before]:
            a = ex.answer
            if a is not None and a.is_html and a.body and a.tree.css_first(box) is not None:
                return True
        return False

    def _hidden_name(self, field_name: str, before: int) -> bool:
        for ex in self.exchanges[:before]:
            a = ex.answer
            hidden = 'input[type="hidden"]' + _by_name(field_name)
            if a is not None and a.is_html and a.body and a.tree.css_first(hidden) is not None:
                return True
        return False

    def _structural(self, ex: Exchange, value: str, hint: str, field_name: str | None) -> Extract | None:
        answer = ex.answer
        if answer is None:
            return None
        loc = ex.location
        if loc is not None and value in loc:
            name = self._pending_name(hint)
            if loc == value:
                rule = Extract(name=name, source="header", expr="Location")
            else:
                rule = _boundary_rule(name, "header", "Location", loc, value)
            if rule is not None and _gives(answer, rule, value):
                return self._claim(rule)
        for cookie, raw in answer.cookies.items():  # double-submit: a script copies it into a header
            if value in (raw, unquote(raw)):
                rule = Extract(
                    name=self._pending_name(cookie),
                    source="cookie",
                    expr=cookie,
                    attr=None if value == unquote(raw) else "raw",
                )
                if _gives(answer, rule, value):
                    return self._claim(rule)
        data = answer.json if "json" in answer.headers.get("content-type", "") else None
        if data is not None:
            for path in _json_paths(data, value):
                rule = Extract(
                    name=self._pending_name(path.rsplit(".", 1)[-1] or hint), source="json", expr=path
                )
                if _gives(answer, rule, value):
                    return self._claim(rule)
        if answer.is_html and answer.body:
            names = [field_name] if field_name else []
            names += [
                n.attributes.get("name") or "" for n in answer.tree.css("input, textarea, select, meta")
            ]
            for name in dict.fromkeys(n for n in names if n):
                for attr in ("value", "content"):
                    rule = Extract(
                        name=self._pending_name(name), source="html", expr=_by_name(name), attr=attr
                    )
                    if _gives(answer, rule, value):
                        return self._claim(rule)
        return None

    def _in_text(self, ex: Exchange, value: str, hint: str) -> Extract | None:
        answer = ex.answer
        if answer is None or not answer.body:
            return None
        text = answer.text
        for shown in dict.fromkeys([value, html.escape(value), json.dumps(value)[1:-1]]):
            if shown in text:
                rule = _boundary_rule(self._pending_name(hint), "regex", None, text, shown)
                if rule is not None and _gives(answer, rule, value):
                    return self._claim(rule)
        if value in ex.url:  # the value came with the answer's own address (a page reached by a link)
            rule = _boundary_rule(self._pending_name(hint), "url", "", ex.url, value)
            if rule is not None and _gives(answer, rule, value):
                return self._claim(rule)
        return None

    def _pending_name(self, hint: str) -> str:
        """A candidate's name, not reserved until the candidate is kept (`_claim`)."""
        base = re.sub(r"[^A-Za-z0-9_]+", "_", hint).strip("_").lower() or "value"
        if base[0].isdigit():
            base = f"v_{base}"
        return base[:40]

    def _claim(self, rule: Extract) -> Extract:
        return rule.model_copy(update={"name": self._name(rule.name)})


def _by_name(name: str) -> str:
    return f'[name="{name}"]' if '"' not in name else f"[name='{name}']"


def _gives(answer: AnswerView | None, rule: Extract, value: str) -> bool:
    if answer is None:
        return False
    try:
        got = answer.extract(rule)
    except Exception:  # a selector or path this answer cannot take
        return False
    return got is not None and str(got) == value


def _json_paths(data: Any, value: str, prefix: str = "") -> Iterable[str]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _json_paths(v, value, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _json_paths(v, value, f"{prefix}.{i}" if prefix else str(i))
    elif data is not None and not isinstance(data, bool) and str(data) == value:
        yield prefix


_TOKEN = r"""[^\s"'<>&?#/;,=()\[\]{}|\\]"""
"""What a token is made of when nothing in the recorded value says otherwise: anything but the
characters that end one in a URL, an attribute or JSON. A class built from the recorded value alone
would be too narrow (a draft id recorded as `8UObD20o` is `q6x-bD7_` next time)."""


def _value_class(value: str) -> str:
    if re.fullmatch(_TOKEN + "+", value):
        return _TOKEN
    extra = sorted({c for c in value if not c.isalnum()} | {"-", "_"})
    letters = any(c.isalpha() for c in value)
    digits = any(c.isdigit() for c in value)
    cls = ("A-Za-z" if letters else "") + ("0-9" if digits else "") + "".join(re.escape(c) for c in extra)
    return f"[{cls}]" if cls else "."


def _boundary_rule(name: str, source: str, expr: str | None, text: str, shown: str) -> Extract | None:
    """A regex with a left boundary (the text just before the value, cut after any address, whose
    port changes between runs) and, when needed, a right one, that finds `shown` first in `text`."""
    pos = text.find(shown)
    if pos < 0:
        return None
    cls = _value_class(shown)
    for width in _BOUNDARY_STEPS:
        left = text[max(0, pos - width) : pos]
        cut = list(_ADDRESS.finditer(left))
        if cut:
            left = left[cut[-1].end() :]
        if not left and pos > 0:
            continue
        for right in ("", text[pos + len(shown) : pos + len(shown) + 1]):
            pattern = (re.escape(left) if left else "^") + f"({cls}+)" + re.escape(right)
            try:
                m = re.search(pattern, text)
            except re.error:
                continue
            if m and m.group(1) == shown:
                if source == "regex":
                    return Extract(name=name, source="regex", expr=pattern)
                return Extract(name=name, source=source, expr=expr or "", regex=pattern)  # type: ignore[arg-type]
    return None
