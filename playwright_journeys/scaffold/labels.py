"""Matching a portal's words to the catalog's: labels, option wording, document names.

Vendors type the same label with or without diacritics, in other case, with extra spaces, a
trailing colon or a required mark («HỌ VÀ TÊN:», «Ho va ten *», «Họ và tên (*)», «* Họ và tên»). Those are the same words to a citizen, so they
match; anything else (another wording, a longer label) does not: a wrong match would be written as
if it were certain, which is worse than a field left for a person to decide. A close wording is only
ever offered as a suggestion.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping

_MARK = re.compile(r"\(\s*\*\s*\)")  # ASP.NET portals' «(*)», anywhere in the label
_ENDS = re.compile(r"^[\s*:：]+|[\s*:：]+$")
SUGGEST_CUTOFF = 0.6


def normalize(text: str) -> str:
    """Case-, diacritics-, spacing- and mark-blind form: «Họ và tên (*):» → "ho va ten". Đ/đ has no
    combining mark in Unicode, so it is folded by hand."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("đ", "d").replace("Đ", "D").casefold()
    return _ENDS.sub("", " ".join(_MARK.sub(" ", bare).split()))


def same(a: str, b: str) -> bool:
    return normalize(a) == normalize(b)


def match_one(text: str, candidates: Mapping[str, Iterable[str]]) -> str | None:
    """The key whose words (any of them) equal `text`, ignoring case, diacritics and spacing; None when
    no key or more than one key matches (an ambiguous match is not a match)."""
    want = normalize(text)
    hits = [key for key, words in candidates.items() if any(normalize(w) == want for w in words)]
    return hits[0] if len(hits) == 1 else None


def suggest(text: str, candidates: Mapping[str, str]) -> str | None:
    """The key whose words are closest to `text`, if close enough to be worth a person's look."""
    want = normalize(text)
    best, score = None, SUGGEST_CUTOFF
    for key, words in candidates.items():
        ratio = difflib.SequenceMatcher(None, want, normalize(words)).ratio()
        if ratio > score:
            best, score = key, ratio
    return best


def ranked(text: str, candidates: Mapping[str, str]) -> list[str]:
    """Every key, closest words first: the order in which to try values when no label matched."""
    want = normalize(text)
    return sorted(
        candidates, key=lambda k: -difflib.SequenceMatcher(None, want, normalize(candidates[k])).ratio()
    )
