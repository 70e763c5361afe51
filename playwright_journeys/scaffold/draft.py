"""From what an e-form showed to the profile's form section for that service.

Every control is matched to a catalog field by its label (and to what the partial profile already
says: a label it gave, a portal-only field it added), option wording to catalog options, document
slots to catalog documents, all by `labels.same`. A match is written so that it needs no edit; all
else goes under `decide:` with what the person has to choose and the closest catalog wording, so that
`profile check` names each until they have. Nothing here touches a browser: it is tested as data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dvcwatch.core.catalog.models import Catalog, FormField, Service
from dvcwatch.core.profile import FieldForm, Profile, ServiceForm
from playwright_journeys.scaffold.labels import match_one, normalize, same, suggest
from playwright_journeys.scaffold.reader import Control, FormPage, Slot

EXTRA_DOCUMENTS = "extra_documents"  # the profile's key for portal-only documents (ServiceForm)
_PLACE = re.compile(r"\b(tinh|thanh pho|quan|huyen|phuong|xa|thi tran|province|district|ward)\b")
GENERATE_FOR = {"date": "date", "number": "number", "tel": "phone", "select": "option", "radio": "option"}


@dataclass
class Reading:
    """What the scaffold saw of one service's e-form, and how far it got."""

    service: Service
    pages: list[FormPage] = field(default_factory=list)
    all_pages: bool = False  # it reached the documents page (or the form has no further page)
    stopped: str = ""  # why it read no further, in words
    error: str = ""  # the e-form could not be read at all

    @property
    def controls(self) -> list[Control]:
        seen: set[tuple[str, str]] = set()
        out = []
        for p in self.pages:
            for c in p.controls:
                if (c.name, c.label) not in seen:
                    seen.add((c.name, c.label))
                    out.append(c)
        return out

    @property
    def slots(self) -> list[Slot]:
        return [s for p in self.pages for s in p.slots]

    @property
    def saw_documents(self) -> bool:
        return any(p.slots for p in self.pages)


@dataclass
class Draft:
    """One service's section, with the words a person reads next to it in the file."""

    service_id: str
    section: ServiceForm
    notes: list[str]  # comment lines: each control as seen, and how it was matched
    matched: dict[str, str] = field(default_factory=dict)  # catalog field → the portal's label

    @property
    def undecided(self) -> list[str]:
        return list(self.section.decide)


def match_controls(
    catalog: Catalog, profile: Profile, service: Service, controls: list[Control]
) -> tuple[dict[str, Control], dict[str, Control], list[Control], dict[str, str]]:
    """(catalog field → its control, existing extra → its control, controls matched to nothing, and
    of those, label → the catalog field whose label it has but none of whose options it offers: the
    same words asking another question, as «Giới tính» of a child with «Bé trai», «Bé gái»)."""
    sid = service.id
    fields = {f.name: f for f in catalog.all_fields(service) if not profile.form_absent(sid, f)}
    words = {n: {f.label_vi, profile.field_label(sid, f)} for n, f in fields.items()}
    extras = {n: {x.label} for n, x in profile.form_for(sid).extra.items() if x.label}
    by_field: dict[str, Control] = {}
    by_extra: dict[str, Control] = {}
    rest: list[Control] = []
    doubtful: dict[str, str] = {}
    for c in controls:
        hit = match_one(c.label, words)
        if hit is not None and hit not in by_field:
            if _offers_none(c, fields[hit], profile.form_for(sid).fields.get(hit)):
                doubtful[c.label] = hit
                rest.append(c)
                continue
            by_field[hit] = c
            continue
        extra = match_one(c.label, extras)
        if extra is not None and extra not in by_extra:
            by_extra[extra] = c
            continue
        rest.append(c)
    return by_field, by_extra, rest, doubtful


def _offers_none(c: Control, f: FormField, known: FieldForm | None) -> bool:
    if not (c.options and f.options):
        return False
    wording = [w for v in f.options for w in (v, known.options.get(v, v) if known else v)]
    return not any(same(o, w) for o in c.options for w in wording)


def draft_section(catalog: Catalog, profile: Profile, reading: Reading) -> Draft:
    s, sid = reading.service, reading.service.id
    known = profile.form_for(sid)
    if reading.error:
        section = known.model_copy(
            update={"decide": {"e-form": f"could not be read: {reading.error}; write this section by hand"}}
        )
        return Draft(sid, section, [f"not read: {reading.error}"])
    by_field, by_extra, rest, doubtful = match_controls(catalog, profile, s, reading.controls)
    catalog_fields = {f.name: f for f in catalog.all_fields(s)}
    fields: dict[str, FieldForm] = {}
    decide: dict[str, str] = {}
    notes: list[str] = []
    matched: dict[str, str] = {}
    for name, f in catalog_fields.items():
        if profile.form_absent(sid, f):
            fields[name] = FieldForm(absent=True)
            continue
        c = by_field.get(name)
        if c is None:
            _unseen_field(f, reading, rest, decide, notes)
            continue
        matched[name] = c.label
        entry, why = _field_entry(f, c, known.fields.get(name))
        typed = _typed_select(f, c, known.fields.get(name))
        if entry is not None:
            fields[name] = entry
        if why:
            decide[f"options of {name}"] = why
        notes.append(f"{name} ← {c.describe()}")
        if typed:
            notes.append(typed)
    extra = {n: known.extra[n] for n in by_extra}
    for n, c in by_extra.items():
        notes.append(f"extra {n} ← {c.describe()}")
    for n, x in known.extra.items():  # the person's own portal-only fields, not seen on the pages read
        if n not in extra:
            extra[n] = x
            notes.append(f"extra {n} (kept from the profile; not on the pages read)")
    spare = {n: f.label_vi for n, f in catalog_fields.items() if n not in by_field and n not in fields}
    for c in rest:
        why_not = _covered_by_profile(profile, c)
        if why_not:
            notes.append(f"{c.describe()}: {why_not}")
            continue
        twin = doubtful.get(c.label)
        if twin is not None:
            f = catalog_fields[twin]
            decide[f"control «{c.label}»"] = (
                f"{c.describe()}; it has the label of catalog field {twin} but none of its options "
                f"({', '.join(f'«{o}»' for o in f.options or [])}): if it is {twin}, give "
                f"fields.{twin}.options (catalog value: the portal's words); else add it under extra"
            )
            notes.append(f"? {c.describe()}: the label of {twin}, not its options")
            continue
        decide[f"control «{c.label}»"] = _unmatched_control(c, spare)
        notes.append(f"? {c.describe()}: no catalog field")
    extra_documents: dict[str, Any] = {}
    documents = _documents(s, profile, reading, decide, notes, extra_documents)
    more = {EXTRA_DOCUMENTS: extra_documents} if extra_documents else {}
    section = ServiceForm(
        fields=fields, extra=extra, documents=documents, agencies=dict(known.agencies), decide=decide, **more
    )
    if not reading.all_pages and reading.stopped:
        notes.append(f"read no further: {reading.stopped}")
    return Draft(sid, section, notes, matched)


def _field_entry(f: FormField, c: Control, known: FieldForm | None) -> tuple[FieldForm | None, str]:
    """The entry a matched field needs (None: the catalog's label and options do) and, if some catalog
    options have no counterpart on the page, what the person must decide about them."""
    said = known.label if known is not None else None  # the partial profile's (or its default's) label
    label = c.label if c.label != f.label_vi or said not in (None, c.label) else None
    options: dict[str, str] = {}
    why = ""
    if f.options and c.options:
        missing: list[str] = []
        for value in f.options:
            words = [value] + ([known.options[value]] if known and value in known.options else [])
            hit = next((o for o in c.options if any(same(o, w) for w in words)), None)
            if hit is None:
                missing.append(value)
            elif hit != value:
                options[value] = hit
        if missing:
            why = (
                f"catalog option(s) {', '.join(f'«{m}»' for m in missing)} of {f.name} are not among the "
                f"portal's {', '.join(f'«{o}»' for o in c.options)}: map each under "
                f"fields.{f.name}.options (catalog value: the portal's words)"
            )
    if label is None and not options and (known is None or known.value is None):
        return None, why
    value = known.value if known else None
    return FieldForm(label=label, options=options, value=value), why


def _covered_by_profile(profile: Profile, c: Control) -> str:
    """Why a control matched to no catalog field needs no decision: the profile handles it already
    (the declaration box through `selectors.declaration`, a place select through `journey.places`)."""
    if c.covered:
        return f"covered by selectors.{c.covered}"
    place = next((p for p in profile.journey.places if same(p.label, c.label)), None)
    if place is not None:
        return f"covered by journey.places («{place.option}» is chosen)"
    return ""


def _typed_select(f: FormField, c: Control, known: FieldForm | None) -> str:
    """A catalog select the portal asks as a text box: the catalog's words are typed as they are
    (`fields.<name>.options` maps a catalog value to other words to type); said once as a note."""
    if not f.options or c.kind in ("select", "radio", "checkbox") or (known and known.options):
        return ""
    first = f.options[0]
    return (
        f"{f.name} is a select in the catalog and a text box here: the catalog's words are typed "
        f"({', '.join(f'«{o}»' for o in f.options)}); to type other words, map each under "
        f'fields.{f.name}.options (e.g. {{options: {{"{first}": "…"}}}})'
    )


def _unseen_field(f: FormField, reading: Reading, rest: list[Control], decide: dict, notes: list) -> None:
    where = "on the e-form" if reading.all_pages else "on the page(s) read"
    if not f.required:
        notes.append(f"{f.name} «{f.label_vi}» (optional) is not {where}: left to the catalog")
        return
    close = suggest(f.label_vi, {c.label: c.label for c in rest})
    hint = f"; closest on the page: «{close}»" if close else ""
    decide[f"field {f.name}"] = (
        f"catalog field «{f.label_vi}» is not {where}: mark it absent ({f.name}: null) or give the "
        f'portal\'s label ({f.name}: "…") under fields{hint}'
    )
    notes.append(f"? {f.name} «{f.label_vi}»: not {where}")


def _unmatched_control(c: Control, spare: dict[str, str]) -> str:
    close = suggest(c.label, spare)
    hint = f" (closest: {close} «{spare[close]}»)" if close else ""
    gen = GENERATE_FOR.get(c.kind, "text")
    key = c.name or "my_name"
    place = ""
    if c.kind == "select" and _PLACE.search(normalize(c.label)):
        first = c.options[0] if c.options else "…"
        place = f', or, as a place select, list it under journey.places ({{label: "{c.label}", option: "{first}"}})'
    return (
        f"{c.describe()}; no catalog field has this label: map a catalog field to it under fields "
        f'({"e.g. " + close if close else "<field>"}: "{c.label}"){hint}, or add it under extra '
        f'({key}: {{label: "{c.label}", value: {{generate: {gen}}}}} or a fixed value){place}'
    )


def _documents(
    s: Service, profile: Profile, reading: Reading, decide: dict, notes: list, extra_documents: dict
) -> dict[str, str | None]:
    """Catalog document → the portal's slot name where it differs; a required slot that is none of
    them, once every catalog document has its slot, is the portal's own (written under
    `extra_documents`, as a person would decide); any other unmatched slot is left to decide."""
    sid = s.id
    form = profile.form_for(sid)
    known = form.documents
    out: dict[str, str | None] = {d: n for d, n in known.items() if n is None}
    asked = [d for d in s.documents if profile.document_name(sid, d) is not None]
    own = dict(getattr(form, EXTRA_DOCUMENTS, None) or {})
    if not reading.saw_documents:
        if asked:
            why = reading.stopped or "the e-form showed no document slots"
            decide["documents"] = (
                f"the documents page was not read ({why}): give each document's slot name under "
                f"documents ({', '.join(d.id for d in asked)})"
            )
        for d in asked:
            if d.id in known:
                out[d.id] = known[d.id]
        extra_documents.update(own)
        return out
    words = {d.id: {d.name_vi, profile.document_name(sid, d) or d.name_vi} for d in asked}
    theirs = {k: {x.name} for k, x in own.items() if getattr(x, "name", None)}
    taken: set[str] = set()
    unmatched = []
    for slot in reading.slots:
        mine = match_one(slot.label, {k: v for k, v in theirs.items() if k not in extra_documents})
        if mine is not None:
            extra_documents[mine] = own[mine]
            notes.append(f"extra document {mine} ← slot «{slot.label}»")
            continue
        hit = match_one(slot.label, {k: v for k, v in words.items() if k not in taken})
        if hit is None:
            unmatched.append(slot)
            continue
        taken.add(hit)
        doc = next(d for d in asked if d.id == hit)
        if slot.label != doc.name_vi:
            out[hit] = slot.label
        notes.append(f"document {hit} ← slot «{slot.label}»")
    for k, x in own.items():  # the person's own, not seen on the pages read
        if k not in extra_documents:
            extra_documents[k] = x
            notes.append(f"extra document {k} (kept from the profile; not on the pages read)")
    paired = all(d.id in taken for d in asked)
    catalog_ids = {d.id for d in s.documents}  # an extra document's id is never a catalog one's
    for slot in unmatched:
        spare = [d for d in asked if d.id not in taken]
        _portal_only(slot, paired, spare, catalog_ids, decide, notes, extra_documents)
    for d in asked:
        if d.id not in taken:
            decide[f"document {d.id}"] = (
                f"catalog document «{d.name_vi}» is not among the slots: give its slot name "
                f'({d.id}: "…") or null if this portal does not ask it'
            )
    return out


def _portal_only(
    slot: Slot,
    paired: bool,
    spare: list,
    catalog_ids: set[str],
    decide: dict,
    notes: list,
    extra_documents: dict,
) -> None:
    """A slot no catalog document matched. When every catalog document already has its slot, it can
    only be the portal's own: required, it is written under `extra_documents` (if this profile
    model has the key); optional, it is left unattached, as a citizen may. Else a person decides."""
    ident = slug(slot.label, set(extra_documents) | catalog_ids)
    spec = {"name": slot.label, "file_type": file_type(slot.accept)}
    if paired and slot.label and not slot.required:
        notes.append(
            f"optional slot «{slot.label}» matches no catalog document and every catalog document has "
            f"its slot: left unattached (to attach it, add it under extra_documents with required: false)"
        )
        return
    if paired and slot.label and EXTRA_DOCUMENTS in ServiceForm.model_fields:
        extra_documents[ident] = spec
        notes.append(
            f"extra document {ident} ← slot «{slot.label}» (required): no catalog document has this name "
            "and every catalog document has its slot, so the portal asks it of its own (written under "
            "extra_documents; delete it if it is in fact a catalog document)"
        )
        return
    close = suggest(slot.label, {d.id: d.name_vi for d in spare})
    hint = f"; closest: {close}" if close else ""
    decide[f"slot «{slot.label}»"] = (
        f"document slot «{slot.label}» ({'required' if slot.required else 'optional'}) matches no "
        f'catalog document: if it is one, give it under documents (<document id>: "{slot.label}"){hint}; '
        f"if only this portal asks it, add it under extra_documents ({ident}: {flow_spec(spec)})"
    )
    notes.append(f"? slot «{slot.label}»: no catalog document")


def slug(label: str, taken: set[str]) -> str:
    """An id for a portal-only document from its name: «Tờ khai tham gia BHYT (Mẫu TK1-TS)» →
    to-khai-tham-gia-bhyt-mau-tk1-ts (unique among `taken`)."""
    whole = re.sub(r"[^a-z0-9]+", "-", normalize(label)).strip("-")
    base = (whole if len(whole) <= 48 else whole[:49].rsplit("-", 1)[0]) or "giay-to"  # whole words
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}-{n}", n + 1
    return ident


def file_type(accept: str) -> str:
    """The file type a slot takes, from its `accept`: pdf unless it takes only images."""
    a = accept.lower()
    if not a or "pdf" in a:
        return "pdf"
    return "png" if "png" in a and "jp" not in a else "jpg"


def flow_spec(spec: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in spec.items()) + "}"
