"""What the portal says when it refuses the form or the dossier, and whose fault the refusal is.

A portal that refuses says why: a message next to each field or document row it did not accept
(`selectors.validation_message`: ASP.NET's `.field-validation-error`, Angular's `mat-error`, Ant's and
Element's, ARIA alerts) and often a summary (`selectors.validation_summary`, `selectors.form_errors`).
Its words are the finding. When a message names a field or a document the profile does not cover
(nothing was filled or attached there and no mapping names it), the profile has a gap: a harness
error (verdict `error`) naming it, never the portal's failure. A refusal of what was filled is the
portal's: a `StepFailure` with its words. The first refused element is marked (`REFUSED`), so the
failure screenshot shows that row rather than the top of the page.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from dvcwatch.core.profile import By, Sel
from playwright_journeys.outcome import HarnessError, StepFailure

# `j` below is a playwright_journeys.journey.Journey, which calls this module (so no import back).
Journey = Any

REFUSED = "data-dvcwatch-refused"
MAX_QUOTED = 3  # messages quoted in a finding; the rest are in `seen`

# The refused element is the one nearest its control: a table row (a document), or a form stack's
# field container holding exactly one control; its name is the row's first worded cell or the label.
_READ = """([msgSel, sumSels, mark]) => {
  const text = s => (s || '').replace(/\\s+/g, ' ').trim();
  const unmark = s => text(s).replace(/\\(\\s*\\*\\s*\\)|\\*/g, ' ').replace(/\\s+/g, ' ').replace(/[:\\s]+$/, '').trim();
  const isMark = s => /^[(\\[]?\\s*\\*\\s*[)\\]]?$/.test(s);
  const shown = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
    && getComputedStyle(e).visibility !== 'hidden';
  const all = s => { if (!s) return []; try { return [...document.querySelectorAll(s)]; } catch (err) { return null; } };
  const within = (e, s) => { try { return !!(s && e.closest(s)); } catch (err) { return false; } };
  const CONTROLS = 'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea';
  const BOXES = '.form-group, mat-form-field, .mat-mdc-form-field, .ant-form-item, .el-form-item, .field, .mb-3, fieldset';
  const nameOf = c => {
    if (c.labels && c.labels.length) return unmark(c.labels[0].innerText);
    if (c.getAttribute('aria-label')) return unmark(c.getAttribute('aria-label'));
    const by = c.getAttribute('aria-labelledby');
    if (by) return unmark(by.split(/\\s+/).map(id => (document.getElementById(id) || {}).innerText || '').join(' '));
    return '';
  };
  const filled = c => c.type === 'file' ? c.files.length > 0
    : (c.type === 'checkbox' || c.type === 'radio') ? c.checked : !!String(c.value || '').trim();
  const one = box => {
    if (!box) return null;
    const cs = [...box.querySelectorAll(CONTROLS)];
    const names = new Set(cs.map(c => c.type === 'radio' ? 'radio:' + c.name : c));
    return names.size === 1 ? cs : null;
  };
  const about = m => {
    const row = m.closest('tr');
    let controls = null;
    const f = m.getAttribute('data-valmsg-for');
    if (f) {
      const c = document.getElementsByName(f)[0] || document.getElementById(f.replace(/[.\\[\\]]/g, '_'));
      if (c) controls = [c];
    }
    const box = row || m.closest(BOXES) || m.parentElement;
    if (!controls) controls = one(box);
    let subject = '';
    if (row) {
      for (const cell of row.querySelectorAll('th, td')) {
        if (cell.contains(m)) continue;
        const t = unmark(cell.innerText);
        if (/\\p{L}/u.test(t)) { subject = t; break; }
      }
    }
    if (!subject && controls) subject = nameOf(controls[0]);
    if (!subject && box && controls) {
      const l = box.querySelector('label, .control-label, .ant-form-item-label, .el-form-item__label, mat-label');
      if (l) subject = unmark(l.innerText);
    }
    return {subject, filled: controls ? controls.some(filled) : null};
  };
  const found = all(msgSel);
  const sums = sumSels.map(all);
  const inSummary = m => sumSels.some((s, i) => sums[i] !== null && within(m, s));
  const candidates = (found || []).filter(m => {
    const t = text(m.innerText);
    return t && !isMark(t) && shown(m) && !m.closest('label') && !inSummary(m);
  });
  const inner = candidates.filter(m => !candidates.some(o => o !== m && m.contains(o)));
  const messages = inner.map(m => ({text: text(m.innerText), ...about(m)}));
  const summaries = sums.flatMap(x => x || []);
  const summary = summaries.filter(s => shown(s) && text(s.innerText)).flatMap(s => {
    const items = [...s.querySelectorAll('li')].map(li => text(li.innerText)).filter(Boolean);
    return items.length ? items : [text(s.innerText)];
  });
  const first = inner.find(m => about(m).subject) || inner[0] || summaries.find(shown);
  document.querySelectorAll('[' + mark + ']').forEach(e => e.removeAttribute(mark));
  if (first) { first.setAttribute(mark, ''); first.scrollIntoView({block: 'center'}); }
  return {messages, summary, unread: [found === null, ...sums.map(x => x === null)]};
}"""


@dataclass(frozen=True)
class Message:
    text: str
    subject: str  # the field's label or the document row's name; "" when nothing near it names one
    filled: bool | None  # whether its control holds a value or a file; None: no control found


@dataclass(frozen=True)
class Refusal:
    messages: list[Message]
    summary: list[str]

    def __bool__(self) -> bool:
        return bool(self.messages or self.summary)

    def words(self) -> str:
        said = [f"{m.subject}: {m.text}" if m.subject else m.text for m in self.messages]
        said += [s for s in self.summary if s not in {m.text for m in self.messages}]
        return " | ".join(dict.fromkeys(said))


def _css(spec: Sel) -> str | None:
    if isinstance(spec, By):
        return spec.css
    return spec


async def read(j: Journey) -> Refusal:
    """The portal's refusal on the current page (empty when it shows none)."""
    from playwright.async_api import Error as PlaywrightError

    specs = [j.sel(n) for n in ("validation_message", "validation_summary", "form_errors") if j.has(n)]
    css = [_css(spec) for spec in specs]
    if not j.has("validation_message"):
        specs, css = [None, *specs], [None, *css]
    try:
        got = await j.page.evaluate(_READ, [css[0], css[1:], REFUSED])
    except PlaywrightError:
        return Refusal([], [])
    messages = [Message(m["text"], m["subject"], m["filled"]) for m in got["messages"]]
    summary = list(got["summary"])
    # a selector only Playwright reads (text=, :has-text(), a label): its words, without a subject
    unread = [spec for spec, c, bad in zip(specs, css, got["unread"], strict=True) if spec and (bad or not c)]
    if unread and unread[0] is specs[0]:
        messages += [Message(t, "", None) for t in await _texts(j, unread[:1])]
        unread = unread[1:]
    summary += await _texts(j, unread)
    return Refusal(messages, list(dict.fromkeys(summary)))


async def _texts(j: Journey, specs: list[Sel]) -> list[str]:
    out: list[str] = []
    for spec in specs:
        if spec is None:
            continue
        try:
            texts = await j.locate(spec).filter(visible=True).all_inner_texts()
        except Exception:
            continue
        out += [" ".join(t.split()) for t in texts if t.strip() and not re.fullmatch(r"\W*\*\W*", t.strip())]
    return out


def _plain(s: str) -> str:
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^\w]+", " ", s).split())


def covered(j: Journey) -> list[str]:
    """What the profile fills on this service's e-form and dossier, by the names the portal may use."""
    section = j.profile.form_for(j.service.id)
    names: list[str] = []
    for f in j.catalog.all_fields(j.service):
        if not j.profile.form_absent(j.service.id, f):
            names += [j.profile.field_label(j.service.id, f), f.label_vi]
    names += [x.label for x in section.extra.values() if x.label] + list(section.extra)
    for doc in j.service.documents:
        shown_as = j.profile.document_name(j.service.id, doc)
        if shown_as is not None:
            names += [shown_as, doc.name_vi]
    names += [x.name for x in section.extra_documents.values() if x.name] + list(section.extra_documents)
    for place in j.profile.journey.places:
        names.append(place.label)
    return [p for p in map(_plain, names) if p]


def _names_covered(subject: str, names: list[str]) -> bool:
    s = _plain(subject)
    return any(s == n or (len(n) >= 4 and n in s) or (len(s) >= 4 and s in n) for n in names)


def gaps(j: Journey, refusal: Refusal) -> list[Message]:
    """The messages about something the profile left alone: nothing filled there, and no mapping
    of the profile names it."""
    names = covered(j)
    return [
        m
        for m in refusal.messages
        if m.subject and m.filled is not True and not _names_covered(m.subject, names)
    ]


def blame(j: Journey, refusal: Refusal, what: str) -> Exception:
    """The profile's gap (HarnessError) or the portal's refusal (StepFailure), in the portal's words."""
    missed = gaps(j, refusal)
    if missed:
        named = "; ".join(f"«{m.subject}»: «{m.text}»" for m in missed[:MAX_QUOTED])
        return HarnessError(
            f"the portal refused {what} over what the profile does not cover: {named}; map a catalog "
            f"field or document to it, or add it under forms.{j.service.id}.extra or "
            f"forms.{j.service.id}.extra_documents (a profile gap, not the portal's fault)",
            selector=f"forms.{j.service.id}: " + ", ".join(f"«{m.subject}»" for m in missed),
        )
    quoted = [f"«{m.subject}»: «{m.text}»" if m.subject else f"«{m.text}»" for m in refusal.messages]
    quoted += [f"«{s}»" for s in refusal.summary if s not in {m.text for m in refusal.messages}]
    return StepFailure(f"the portal refused {what}: " + "; ".join(quoted[:MAX_QUOTED]), seen=refusal.words())


async def raise_if_refused(j: Journey, what: str) -> None:
    """Raise the blame for the portal's refusal on this page, if it shows one."""
    refusal = await read(j)
    if refusal:
        raise blame(j, refusal, what)
