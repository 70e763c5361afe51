"""What one e-form page shows a citizen: each control with its label, type, required mark and options,
and each document slot (a file input) with its name.

Read in the page with one script, the way a citizen reads it. A control's label is its `<label>`,
`aria-labelledby`, `aria-label`, the label of the form-library item that holds it alone (Angular
Material's `mat-form-field`, Ant Design's `.ant-form-item`, Element's `.el-form-item`, Bootstrap's
`.form-group`), or the cell before it in a table row; a group of radios (or boxes) sharing a name is
one question whose options are their labels. Vendors mark "required" in many ways and the scaffold
reads them all: the `required` attribute, `aria-required`, ASP.NET's unobtrusive `data-val-required`,
a star or "(*)" in or beside the label (in any element), the marker element a form library draws
(`.mat-mdc-form-field-required-marker`, `.ant-form-item-required`, `.el-form-item.is-required`). A
label is given without its marks ("(*)", a star, a colon): they are not words the profile matches.

A document slot may sit in a table: its name is then its `<label>`, `aria-label`, `title`, a
`data-*` name attribute (`data-name`, `data-document-name`, `data-ten-giay-to`, on the input or its
row) or its row's first named cell, and its mark is read as a control's. A select filled by script
after load is waited for (bounded) before the page is read, as the journeys wait for a place select.
Only what is inside the profile's `content` and visible counts (a read-only summary of the applicant
is not a question), and what the profile covers already (the declaration box) is marked so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playwright.async_api import TimeoutError as PlaywrightTimeout

if TYPE_CHECKING:
    from playwright.async_api import ElementHandle, Page

SETTLE_SECONDS = 5.0  # at most, for a select's options to arrive by script: a bound, not a pause

_COMMON = r"""
  const MARKS = '.req, .required, .bat-buoc, .batbuoc, .mat-mdc-form-field-required-marker, '
    + '.mat-form-field-required-marker, .mdc-floating-label--required, .ant-form-item-required, '
    + '.v-label--required, .label-required, .required-mark, .text-required';
  const ITEM = 'mat-form-field, .mat-mdc-form-field, .mat-form-field, .ant-form-item, .el-form-item, '
    + '.v-input, .form-group, .form-item, .field';
  const ITEM_REQUIRED = '.el-form-item.is-required, .form-group.required, '
    + '.form-item.required, .field.required, .v-input--required';
  const ITEM_LABEL = 'label, mat-label, .ant-form-item-label, .el-form-item__label, .v-label, '
    + '.control-label, .form-label';
  const CONTROLS = 'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea';
  // a placeholder is no option: empty or disabled, or "-1"/"0" worded as a prompt («--- Chọn hạng ---»)
  const real = o => o.value !== '' && !o.disabled
    && !(/^-?[01]$/.test(o.value) && /^[\s-]*(chọn|chon|select|choose)\b|^\s*-{2,}/i.test(o.text));
  const shown = e => !!(e && (e.offsetWidth || e.offsetHeight || e.getClientRects().length));
"""

_READ = (
    r"""([rootSel, skip]) => {
  const root = (rootSel && document.querySelector(rootSel)) || document.body;
"""
    + _COMMON
    + r"""
  const skipped = (skip || []).filter(Boolean);
  const clean = s => (s || '').replace(/\(\s*\*\s*\)/g, ' ').replace(/\s+/g, ' ')
    .replace(/^[\s*:：]+|[\s*:：]+$/g, '').trim();
  const plain = s => clean(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd')
    .toLowerCase();
  const words = el => {
    if (!el) return '';
    if (!el.querySelector(CONTROLS + ', button, .btn')) return el.innerText || el.textContent || '';
    const copy = el.cloneNode(true);
    copy.querySelectorAll(CONTROLS + ', button, .btn, option').forEach(x => x.remove());
    return copy.textContent || '';
  };
  const markEl = el => !!el && el.nodeType === 1 && !el.matches(CONTROLS)
    && (el.matches(MARKS) || /^\s*\(?\s*\*\s*\)?\s*$/.test(el.innerText || el.textContent || ''));
  const marked = el => !!el && (/\*/.test(words(el)) || el.matches(MARKS) || !!el.querySelector(MARKS)
    || markEl(el.nextElementSibling) || markEl(el.previousElementSibling));
  const byAttr = e => !!(e.required || e.getAttribute('aria-required') === 'true'
    || (e.hasAttribute('data-val-required') && e.getAttribute('data-val') !== 'false')
    || /^(true|1)$/i.test(e.getAttribute('data-required') || '') || e.classList.contains('required'));
  const itemOf = e => {
    const box = e.closest(ITEM);
    return box && box.querySelectorAll(CONTROLS).length === 1 ? box : null;
  };
  const byItem = e => {
    const box = itemOf(e);
    return !!box && (box.matches(ITEM_REQUIRED) || !!box.querySelector(
      '.mat-mdc-form-field-required-marker, .mat-form-field-required-marker, .ant-form-item-required'));
  };
  const cellBefore = e => {
    const cell = e.closest('td');
    if (!cell || !cell.parentElement || cell.parentElement.querySelectorAll(CONTROLS).length !== 1) return null;
    for (let c = cell.previousElementSibling; c; c = c.previousElementSibling) if (clean(words(c))) return c;
    return null;
  };
  const byId = id => document.getElementById(id);
  const labelOf = e => {
    if (e.labels && e.labels.length) return [...e.labels].find(l => clean(words(l))) || e.labels[0];
    const by = e.getAttribute('aria-labelledby');
    if (by) return byId(by.split(/\s+/)[0]);
    const box = itemOf(e);
    const inner = box && box.querySelector(ITEM_LABEL);
    if (inner && clean(words(inner))) return inner;
    return e.getAttribute('aria-label') ? null : cellBefore(e);
  };
  const textOf = (e, el) => {
    if (el && clean(words(el))) return clean(words(el));
    if (e.getAttribute('aria-label')) return clean(e.getAttribute('aria-label'));
    return clean(e.getAttribute('title') || e.placeholder || '');
  };
  const required = (e, lab) => byAttr(e) || marked(lab) || byItem(e) || markEl(e.nextElementSibling);
  const covered = e => skipped.some(s => s === e || s.contains(e)
    || [...(e.labels || [])].some(l => l === s || s.contains(l) || l.contains(s)));
  const cssOf = e => e.id ? '#' + CSS.escape(e.id)
    : (e.name ? `${e.tagName.toLowerCase()}[name="${CSS.escape(e.name)}"]` : '');
  const BUTTONISH = /^(chon|chon tep|chon tep tin|chon file|tai len|tai tep|tai tep len|dinh kem|them tep|upload|browse|choose file|select file)$/;
  const DATA_NAME = /^data-(?!.*(file|url|id|type|accept|val))(.*-)?(name|ten|ten-giay-to|tengiayto|giay-to|document|title|label)$/;
  const dataName = el => {
    if (!el) return '';
    for (const a of el.getAttributeNames()) {
      const v = clean(el.getAttribute(a));
      if (DATA_NAME.test(a) && /\s/.test(v)) return v;
    }
    return '';
  };
  const slotOf = (e, lab) => {
    const row = e.closest('tr, li, [role=row], .document-row, .file-row, .upload-item');
    const cells = row ? [...row.children].filter(c => !c.contains(e) && clean(words(c))
      && !/^\d+\.?$/.test(clean(words(c)))) : [];
    const cell = cells[0] || null;
    const fromLabel = lab && clean(words(lab)) && !BUTTONISH.test(plain(words(lab))) ? lab : null;
    const candidates = [
      [fromLabel ? clean(words(fromLabel)) : '', fromLabel],
      [clean(e.getAttribute('aria-label')), null],
      [clean(e.getAttribute('title')), null],
      [dataName(e), null],
      [dataName(row), null],
      [cell ? clean(words(cell)) : '', cell],
      [row && !cell ? clean(words(row)) : '', row],
    ];
    const [name, where] = candidates.find(([n]) => n && !BUTTONISH.test(plain(n))) || ['', null];
    const req = byAttr(e) || marked(fromLabel) || marked(cell) || (where === row && marked(row))
      || (!!row && (/^(true|1)$/i.test(row.getAttribute('data-required') || '') || row.matches('.required')));
    return {label: name, required: !!req, accept: e.accept || '', css: cssOf(e), shown: shown(e) || shown(row)};
  };
  const controls = [], slots = [], groups = new Map();
  for (const e of root.querySelectorAll('input, select, textarea')) {
    const type = e.tagName === 'INPUT' ? (e.type || 'text') : e.tagName.toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type) || e.disabled || e.readOnly) continue;
    const lab = labelOf(e);
    if (type === 'file') {
      const s = slotOf(e, lab);
      if (s.shown || shown(lab)) slots.push(s);
      continue;
    }
    if (!shown(e) && !(lab && shown(lab))) continue;
    const skip = covered(e) ? 'declaration' : '';
    if ((type === 'radio' || type === 'checkbox') && e.name) {
      const group = e.closest('fieldset, [role=radiogroup], [role=group]');
      const mates = root.querySelectorAll(`input[name="${CSS.escape(e.name)}"]`);
      if (type === 'radio' || mates.length > 1) {
        if (groups.has(e.name)) { groups.get(e.name).options.push(clean(lab ? words(lab) : e.value)); continue; }
        let gl = null, gtext = '';
        if (group) {
          const by = group.getAttribute('aria-labelledby');
          gl = group.querySelector('legend') || (by ? byId(by.split(/\s+/)[0]) : null);
          gtext = gl ? clean(words(gl)) : clean(group.getAttribute('aria-label'));
        }
        const c = {kind: type, label: gtext || clean(e.name), name: e.name,
                   required: byAttr(e) || !!(group && group.getAttribute('aria-required') === 'true') || marked(gl),
                   options: [clean(lab ? words(lab) : e.value)], css: `input[name="${CSS.escape(e.name)}"]`,
                   min: null, max: null, pattern: null, value: '', covered: skip};
        groups.set(e.name, c);
        controls.push(c);
        continue;
      }
    }
    const kind = type === 'select-one' || type === 'select-multiple' || e.tagName === 'SELECT' ? 'select' : type;
    const options = e.tagName === 'SELECT'
      ? [...e.options].filter(real).map(o => clean(o.text)) : [];
    controls.push({kind, label: textOf(e, lab), name: e.name || e.id || '', required: required(e, lab),
                   options, css: cssOf(e), min: e.getAttribute('min'), max: e.getAttribute('max'),
                   pattern: e.getAttribute('pattern'), value: e.tagName === 'SELECT' ? '' : (e.value || ''),
                   covered: skip});
  }
  return {controls, slots};
}"""
)

# Every shown, enabled select holds a real option: a select its script has not filled yet is empty.
_FILLED = (
    r"""rootSel => {
  const root = (rootSel && document.querySelector(rootSel)) || document.body;
"""
    + _COMMON
    + r"""
  return [...root.querySelectorAll('select')].filter(s => !s.disabled && shown(s))
    .every(s => [...s.options].some(real));
}"""
)


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
    covered: str = ""  # the profile selector that already handles it ("declaration"): no decision

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


async def read_page(
    page: Page,
    content: str | None,
    covered: list[ElementHandle] | None = None,
    settle: float = SETTLE_SECONDS,
) -> FormPage:
    """The controls and slots on the page now, in page order. `content` is the profile's content
    selector (CSS); a portal's header search box is not part of any form. `covered`: the elements the
    profile's own selectors handle (the declaration box). Selects still empty are given up to
    `settle` seconds to be filled by their script; one that never is, is read empty."""
    root = content if _is_css(content) else None
    try:
        await page.wait_for_function(_FILLED, arg=root, timeout=settle * 1000, polling="raf")
    except PlaywrightTimeout:
        pass
    raw: dict[str, Any] = await page.evaluate(_READ, [root, covered or []])
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
            covered=c["covered"],
        )
        for c in raw["controls"]
    ]
    slots = [Slot(s["label"], bool(s["required"]), s["accept"], s["css"]) for s in raw["slots"]]
    return FormPage(page.url, controls, slots)


def _is_css(selector: str | None) -> bool:
    """The profile's `content` may be a Playwright selector ('text=…'); only plain CSS is used here."""
    return bool(selector) and "=" not in (selector or "").split("[", 1)[0]
