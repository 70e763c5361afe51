"""A profile's `forms:` sections: each service's e-form as this portal has it (labels, options, values,
portal-only fields and documents), checked against the catalog when the profile is read."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from dvcwatch.core.errors import LocatedValueError
from dvcwatch.core.selector_spec import Sel, _validated

IDENTITY_ATTRS = (
    "cccd",
    "full_name",
    "birth_date",
    "sex",
    "sex_vi",
    "birth_province",
    "phone",
    "email",
    "address",
    "ward",
    "district",
)


class FromIdentity(BaseModel):
    """The logged-in citizen's own attribute (its e-mail, its phone): what a citizen would type."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    attr: str

    @field_validator("attr")
    @classmethod
    def _known(cls, v: str) -> str:
        v = v.removeprefix("citizen.")
        if v not in IDENTITY_ATTRS:
            raise ValueError(f"unknown identity attribute {v!r}; one of {', '.join(IDENTITY_ATTRS)}")
        return v


class Generated(BaseModel):
    """A value made up for the test, of the type the portal checks. Deterministic per citizen, so a
    failure is reproducible; `option` picks an option the page itself offers (the first real one, or
    the `index`-th)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    generate: Literal["date", "phone", "number", "text", "option"]
    offset_days: int = Field(0, ge=-36_500, le=3_650, description="date: days from today")
    min: int = Field(1, description="number: the smallest")
    max: int | None = Field(None, description="number: the largest (default: min)")
    index: int = Field(0, ge=0, le=50, description="option: which of the real options, from 0")

    @model_validator(mode="after")
    def _range(self) -> Generated:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max {self.max} is below min {self.min}")
        return self


def _value_spec(v: Any) -> Any:
    """A fixed value (a string; numbers and booleans are written as the portal reads them), or
    `{attr: …}`, or `{generate: …}`; a mapping gets its own model's error, not the union's."""
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, dict):
        if "attr" in v:
            return _validated(FromIdentity, v)
        if "generate" in v:
            return _validated(Generated, v)
        raise ValueError("a value is a fixed string, {attr: <identity attribute>} or {generate: <type>}")
    return v


ValueSpec = Annotated[str | FromIdentity | Generated, BeforeValidator(_value_spec)]


class FieldForm(BaseModel):
    """One catalog field on this portal: found by another label or locator, its options in the
    portal's words, or `absent` (this portal does not ask it). In YAML a string is the label and
    `null` means absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str | None = None
    selector: Sel = None
    absent: bool = False
    options: dict[str, str] = Field(default={}, description="catalog value → the portal's wording")
    value: ValueSpec | None = Field(None, description="what to fill instead of the catalog's value")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if v is None:
            return {"absent": True}
        if isinstance(v, str):
            return {"label": v}
        return v

    @model_validator(mode="after")
    def _coherent(self) -> FieldForm:
        if self.label is not None and self.selector is not None:
            raise ValueError("give label or selector, not both")
        if self.absent and (self.label or self.selector or self.options or self.value is not None):
            raise ValueError("an absent field takes nothing else")
        return self


class ExtraField(BaseModel):
    """A field only this portal asks for (the catalog does not know it), and what to fill it with."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str | None = None
    selector: Sel = None
    value: ValueSpec
    required: bool = Field(True, description="false: fill it when the page shows it, else go on")

    @model_validator(mode="after")
    def _found_somehow(self) -> ExtraField:
        if (self.label is None) == (self.selector is None):
            raise ValueError("give exactly one of label or selector")
        return self


SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class ExtraDocument(BaseModel):
    """A document only this portal asks for (the catalog does not know it): a small synthetic file of
    its type is attached, as for the catalog's documents. Found by the portal's name for it (as
    `{document_name}` in `selectors.upload`) or by its own selector."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = Field(None, description="the portal's name ({document_name} in selectors.upload)")
    selector: Sel = Field(None, description="any selector form, instead of name")
    file_type: Literal["pdf", "jpg", "png"] = "pdf"
    size_kb: int | None = Field(None, ge=1, le=20_000, description="the file's size; default: the smallest")
    required: bool = Field(True, description="false: attached only where the page shows its slot")

    @model_validator(mode="after")
    def _found_somehow(self) -> ExtraDocument:
        if (self.name is None) == (self.selector is None):
            raise ValueError("give exactly one of name or selector")
        return self


def _slugs(v: Any) -> Any:
    """An extra document's id is a slug: it names the generated file and the `{document}` placeholder."""
    if isinstance(v, dict):
        for key in v:
            if not isinstance(key, str) or not SLUG.match(key):
                raise LocatedValueError(
                    "an extra document's id is a slug: lower-case letters, digits and '-' (to-khai-bhyt)",
                    (key,),
                )
    return v


class ServiceForm(BaseModel):
    """The e-form of one service on this portal (or, under `forms.default`, of every service)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fields: dict[str, FieldForm] = Field(default={}, description="catalog field → how the portal has it")
    extra: dict[str, ExtraField] = Field(default={}, description="portal-only fields, by a name of yours")
    documents: dict[str, str | None] = Field(
        default={}, description="catalog document → the portal's name for it; null: not asked here"
    )
    extra_documents: Annotated[dict[str, ExtraDocument], BeforeValidator(_slugs)] = Field(
        default={}, description="documents only this portal asks for, by an id of yours (a slug)"
    )
    agencies: dict[str, str] = Field(default={}, description="catalog agency id → the portal's words")
    decide: dict[str, str] = Field(
        default={},
        description="what `profile scaffold` could not match, each with what a person must decide; "
        "a profile with any entry left fails `profile check` and sweeps, naming them",
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _nulls_are_absent(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({"absent": True} if x is None else x) for k, x in v.items()}
        return v

    def over(self, base: ServiceForm) -> ServiceForm:
        """This section on top of `base` (the default section): its entries win, key by key."""
        return ServiceForm(
            fields={**base.fields, **self.fields},
            extra={**base.extra, **self.extra},
            documents={**base.documents, **self.documents},
            extra_documents={**base.extra_documents, **self.extra_documents},
            agencies={**base.agencies, **self.agencies},
            decide={**base.decide, **self.decide},
        )


DEFAULT_FORM = "default"
