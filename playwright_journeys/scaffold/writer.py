"""The `forms:` section as YAML a person reviews, put into a copy of the partial profile.

Written by hand rather than dumped, so each service carries, as comments, every control the scaffold
saw (label, type, required mark, options) and what it matched; the data lines are what the loader
reads. The rest of the partial profile is kept byte for byte (its comments too): only its top-level
`forms:` block is replaced. An entry every service shares (the applicant's fields shown from the
account, say) is written once under `default:` when every catalog service has a section.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from dvcwatch.core.profile import DEFAULT_FORM, By, ExtraField, FieldForm, ServiceForm
from playwright_journeys.scaffold.draft import Draft

_PLAIN_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def key(k: str) -> str:
    return k if _PLAIN_KEY.match(k) and k not in _YAML_WORDS else json.dumps(k, ensure_ascii=False)


def flow(v: Any) -> str:
    """One value as YAML flow: strings double-quoted (JSON is YAML), mappings and lists inline."""
    if isinstance(v, BaseModel):
        v = v.model_dump(exclude_defaults=True, exclude_none=True)
        if isinstance(v, dict) and "generate" not in v and "attr" not in v and not v:
            return "{}"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{key(str(k))}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as YAML")


def field_flow(f: FieldForm) -> str:
    """`null` (absent), a label as a string, or the mapping (label or selector, options, value)."""
    if f.absent:
        return "null"
    if f.label is not None and f.selector is None and not f.options and f.value is None:
        return flow(f.label)
    out: dict[str, Any] = {}
    if f.label is not None:
        out["label"] = f.label
    if f.selector is not None:
        out["selector"] = _sel(f.selector)
    if f.options:
        out["options"] = dict(f.options)
    if f.value is not None:
        out["value"] = _value(f.value)
    return flow(out)


def extra_flow(x: ExtraField) -> str:
    out: dict[str, Any] = {}
    if x.label is not None:
        out["label"] = x.label
    if x.selector is not None:
        out["selector"] = _sel(x.selector)
    out["value"] = _value(x.value)
    if not x.required:
        out["required"] = False
    return flow(out)


def _sel(spec: str | By) -> Any:
    return spec.model_dump(exclude_defaults=True, exclude_none=True) if isinstance(spec, By) else spec


def _value(v: Any) -> Any:
    if isinstance(v, BaseModel):
        d = v.model_dump(exclude_defaults=True)
        first = "generate" if "generate" in v.model_fields else "attr"
        return {first: getattr(v, first), **{k: x for k, x in d.items() if k != first}}
    return v


def section_lines(section: ServiceForm, indent: str) -> list[str]:
    out: list[str] = []
    parts: list[tuple[str, list[tuple[str, str]]]] = [
        ("fields", [(k, field_flow(f)) for k, f in section.fields.items()]),
        ("extra", [(k, extra_flow(x)) for k, x in section.extra.items()]),
        ("documents", [(k, flow(n)) for k, n in section.documents.items()]),
        (
            "extra_documents",
            [(k, flow(x)) for k, x in (getattr(section, "extra_documents", None) or {}).items()],
        ),
        ("agencies", [(k, flow(n)) for k, n in section.agencies.items()]),
        ("decide", [(k, flow(n)) for k, n in section.decide.items()]),
    ]
    for name, items in parts:
        if items:
            out.append(f"{indent}{name}:")
            out.extend(f"{indent}  {key(k)}: {v}" for k, v in items)
    return out


_SHARED = ("fields", "agencies", "decide")  # what moves to `default` when every section has it alike
_MERGED = ("fields", "extra", "documents", "extra_documents", "agencies", "decide")  # ServiceForm.over


def factor_default(sections: dict[str, ServiceForm], every_service: bool) -> dict[str, ServiceForm]:
    """Entries of `fields`, `agencies` and `decide` that every section has, alike, move to `default`
    (only when every catalog service has a section: `default` applies to all of them). Wherever a
    `default` is written, an entry a section repeats from it, alike, is left out of the section: the
    section over `default` reads the same, and the file says it once."""
    if every_service and len(sections) >= 2 and DEFAULT_FORM not in sections:
        first = next(iter(sections.values()))
        shared = {
            part: {
                k: v
                for k, v in getattr(first, part).items()
                if all(getattr(s, part).get(k) == v for s in sections.values())
            }
            for part in _SHARED
        }
        if any(shared.values()):
            sections = {DEFAULT_FORM: ServiceForm(**shared), **sections}
    base = sections.get(DEFAULT_FORM)
    if base is None:
        return sections
    out = {DEFAULT_FORM: base}
    for sid, s in sections.items():
        if sid != DEFAULT_FORM:
            out[sid] = s.model_copy(
                update={part: _beyond(getattr(s, part), getattr(base, part)) for part in _MERGED}
            )
    return out


def _beyond(mine: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mine.items() if k not in base or base[k] != v}


def render_forms(
    drafts: list[Draft], kept: dict[str, ServiceForm], every_service: bool, header: list[str]
) -> str:
    """The whole `forms:` block: the drafts (with their notes as comments) and the partial profile's
    sections of services not visited (`kept`), as they were."""
    sections = {k: v for k, v in kept.items() if k == DEFAULT_FORM} | {
        d.service_id: d.section for d in drafts
    }
    sections |= kept
    sections = factor_default(sections, every_service)
    notes = {d.service_id: d.notes for d in drafts}
    lines = [f"# {h}" for h in header]
    lines.append("forms:")
    for sid, section in sections.items():
        body = section_lines(section, "    ")
        comments = [f"    # {n}" for n in notes.get(sid, [])]
        if sid == DEFAULT_FORM:
            comments = ["    # shared by every service below"]
        elif sid in kept:
            comments = ["    # kept from the partial profile (not visited)"]
        lines.append(f"  {key(sid)}:" + ("" if body else " {}"))
        lines.extend(comments)
        lines.extend(body)
    return "\n".join(lines) + "\n"


def replace_forms(profile_text: str, forms_block: str) -> str:
    """The partial profile with its top-level `forms:` block (if any) replaced by `forms_block`."""
    lines = profile_text.splitlines()
    out: list[str] = []
    skipping = False
    for line in lines:
        if re.match(r"^forms\s*:", line):
            skipping = True
            continue
        if skipping and (_TOP_KEY.match(line) or line.startswith("---")):
            skipping = False
        if not skipping:
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n\n" + forms_block
