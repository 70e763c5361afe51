"""What one e-form page shows a citizen: each control with its label, type, required mark and options,
and each document slot (a file input) with its name.

Read in the page with one script, the way a citizen reads it: a control's label is its `<label>`,
`aria-label`, `aria-labelledby` or the legend of its group; a group of radios (or boxes) sharing a
name is one question whose options are their labels; "required" is the `required` attribute,
`aria-required`, or a star next to the label (vendors mark it all three ways). Only what is inside the
profile's `content` and visible counts: a read-only summary of the applicant is not a question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Page

_READ = r"""rootSel => {
  const root = (rootSel && document.querySelector(rootSel)) || document.body;
  const clean = s => (s || '').replace(/\s+/g, ' ').replace(/[*:\s]+$/, '').trim();
  const shown = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const starred = el => {
    if (!el) return false;
    if (/\*\s*$/.test(el.innerText || '')) return true;
    const marks = '.req, .required, .bat-buoc, .batbuoc, [class*="required"], abbr[title]';
    if (el.querySelector && el.querySelector(marks)) return true;
    const next = el.nextElementSibling;
    return !!(next && (/^\s*\*/.test(next.innerText || '') || next.matches(marks)));
  };
  const byId = id => document.getElementById(id);
  const labelOf = e => {
    if (e.labels && e.labels.length) return e.labels[0];
    const by = e.getAttribute('aria-labelledby');
    if (by) return byId(by.split(/\s+/)[0]);
    return null;
  };
  const textOf = (e, el) => {
    if (el) return clean(el.innerText);
    if (e.getAttribute('aria-label')) return clean(e.getAttribute('aria-label'));
    return clean(e.placeholder || '');
  };
  const cssOf = e => e.id ? '#' + CSS.escape(e.id)
    : (e.name ? `${e.tagName.toLowerCase()}[name="${CSS.escape(e.name)}"]` : '');
  const controls = [], slots = [], groups = new Map();
  for (const e of root.querySelectorAll('input, select, textarea')) {
    const type = e.tagName === 'INPUT' ? (e.type || 'text') : e.tagName.toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type) || e.disabled || e.readOnly) continue;
    const lab = labelOf(e);
    if (!shown(e) && !(lab && shown(lab))) continue;
    const req = !!(e.required || e.getAttribute('aria-required') === 'true');
    if (type === 'file') {
      slots.push({label: textOf(e, lab), required: req || starred(lab), accept: e.accept || '', css: cssOf(e)});
      continue;
    }
    if ((type === 'radio' || type === 'checkbox') && e.name) {
      const group = e.closest('fieldset, [role=radiogroup], [role=group]');
      const mates = root.querySelectorAll(`input[name="${CSS.escape(e.name)}"]`);
      if (type === 'radio' || mates.length > 1) {
        if (groups.has(e.name)) { groups.get(e.name).options.push(clean(lab ? lab.innerText : e.value)); continue; }
        let gl = null, gtext = '';
        if (group) {
          const by = group.getAttribute('aria-labelledby');
          gl = group.querySelector('legend') || (by ? byId(by.split(/\s+/)[0]) : null);
          gtext = gl ? clean(gl.innerText) : clean(group.getAttribute('aria-label'));
        }
        const c = {kind: type, label: gtext || clean(e.name), name: e.name,
                   required: req || !!(group && group.getAttribute('aria-required') === 'true') || starred(gl),
                   options: [clean(lab ? lab.innerText : e.value)], css: `input[name="${CSS.escape(e.name)}"]`,
                   min: null, max: null, pattern: null, value: ''};
        groups.set(e.name, c);
        controls.push(c);
        continue;
      }
    }
    const kind = type === 'select-one' || type === 'select-multiple' || e.tagName === 'SELECT' ? 'select' : type;
    const options = e.tagName === 'SELECT'
      ? [...e.options].filter(o => o.value !== '' && !o.disabled).map(o => clean(o.text)) : [];
    controls.push({kind, label: textOf(e, lab), name: e.name || e.id || '', required: req || starred(lab),
                   options, css: cssOf(e), min: e.getAttribute('min'), max: e.getAttribute('max'),
                   pattern: e.getAttribute('pattern'), value: e.tagName === 'SELECT' ? '' : (e.value || '')});
  }
  return {controls, slots};
}"""


@dataclass(frozen=True)
class Control:
    """One question of the e-form as a citizen sees it."""

    kind: str  # text, textarea, date, number, tel, email, select, radio, checkbox
    label: str
    name: str  # the portal's own input name (or id): a stable key for an entry of its own
    required: bool
    options: tuple[str, ...] = ()
    css: str = ""  # how the scaffold finds it again to fill it (never written to the profile)
    min: str | None = None
    max: str | None = None
    pattern: str | None = None
    value: str = ""  # what the portal already put there (prefilled from the account)

    def describe(self) -> str:
        """«Trường hợp cấp» select, required, options «Bị mất», «Bị hỏng»."""
        out = f"«{self.label}» {self.kind}, {'required' if self.required else 'optional'}"
        if self.options:
            out += ", options " + ", ".join(f"«{o}»" for o in self.options)
        return out


@dataclass(frozen=True)
class Slot:
    """One document the portal asks for: a file input named by the portal."""

    label: str
    required: bool
    accept: str = ""
    css: str = ""


@dataclass
class FormPage:
    url: str
    controls: list[Control] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)


async def read_page(page: Page, content: str | None) -> FormPage:
    """The controls and slots on the page now, in page order. `content` is the profile's content
    selector (CSS); a portal's header search box is not part of any form."""
    raw: dict[str, Any] = await page.evaluate(_READ, content if _is_css(content) else None)
    controls = [
        Control(
            kind=c["kind"],
            label=c["label"],
            name=c["name"],
            required=bool(c["required"]),
            options=tuple(o for o in c["options"] if o),
            css=c["css"],
            min=c["min"],
            max=c["max"],
            pattern=c["pattern"],
            value=c["value"],
        )
        for c in raw["controls"]
    ]
    slots = [Slot(s["label"], bool(s["required"]), s["accept"], s["css"]) for s in raw["slots"]]
    return FormPage(page.url, controls, slots)


def _is_css(selector: str | None) -> bool:
    """The profile's `content` may be a Playwright selector ('text=…'); only plain CSS is used here."""
    return bool(selector) and "=" not in (selector or "").split("[", 1)[0]
