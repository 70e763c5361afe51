"""The service catalog as typed data.

The catalog is data a district corrects without touching code; these models are where a wrong entry is
caught, with the file, service and field named by `dvcwatch.core.yamlconfig`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dvcwatch.core.errors import LocatedValueError
from dvcwatch.core.yamlconfig import check_regex

Level = Literal["full", "partial"]
FieldType = Literal["text", "textarea", "cccd", "date", "phone", "email", "number", "select", "checkbox"]
Delivery = Literal["electronic", "post", "in_person"]
FileType = Literal["pdf", "jpg", "png"]

ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# Built-in validation per field type: what the sandbox enforces and what form fillers must produce.
TYPE_PATTERNS: dict[str, str] = {
    "cccd": r"^\d{12}$",
    "date": r"^(0[1-9]|[12]\d|3[01])/(0[1-9]|1[0-2])/(19|20)\d{2}$",
    "phone": r"^0\d{9}$",
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "number": r"^-?\d+$",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(Strict):
    id: str
    name_vi: str
    name_en: str


class ProcedureCode(Strict):
    code: str
    level: Literal["central", "province", "district", "ward", "internal"]


class Fee(Strict):
    """What the citizen pays online. `kind` says how the amount is set: a fixed fee, one per
    choice (exam registration), or an amount that depends on the case (a fine, a premium) for
    which `amount` is the sandbox's example."""

    amount: int = Field(ge=0, description="VND, 0 when free")
    kind: Literal["none", "fixed", "per_choice", "variable"] = "fixed"
    note_vi: str = ""
    note_en: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Fee:
        if (self.amount == 0) != (self.kind == "none"):
            raise ValueError("kind must be 'none' exactly when amount is 0")
        return self


class ProcessingTime(Strict):
    days: float = Field(ge=0)
    unit: Literal["working_days", "days", "hours"] = "working_days"
    note_en: str = ""


class Document(Strict):
    id: str
    name_vi: str
    name_en: str
    types: list[FileType] = Field(min_length=1)
    required: bool = True
    max_bytes: int = 5_000_000
    source: str | None = Field(
        None, description="the text that makes the procedure ask for it (form and decision numbers)"
    )


class FormField(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_vi: str
    label_en: str
    type: FieldType
    required: bool = True
    pattern: str | None = Field(default=None, description="extra regex the value must match")
    options: list[str] | None = None
    min: int | None = None
    max: int | None = None
    source: str | None = Field(
        default=None,
        description="citizen attribute that prefills it (e.g. citizen.full_name), as portals do from the population database",
    )
    example: str | None = Field(default=None, description="a valid value used by journeys and load tests")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        return None if v is None else check_regex(v)

    @model_validator(mode="after")
    def _options(self) -> FormField:
        if self.type == "select" and not self.options:
            raise ValueError("a select field needs a non-empty options list")
        if self.type != "select" and self.options:
            raise ValueError("options are only for type: select")
        if self.source is None and self.example is None and self.type in ("text", "textarea"):
            raise ValueError("a text field needs an example value or a citizen source")
        return self

    def rule(self) -> str | None:
        """The regex a value must match (the type's own rule, or the field's pattern)."""
        return self.pattern or TYPE_PATTERNS.get(self.type)


class Volume(Strict):
    weight: float = Field(gt=0, description="yearly dossiers, used as the load-mix weight")
    source: Literal["field", "estimate"]
    note: str = ""


class SubResult(Strict):
    agency: str
    name_vi: str
    name_en: str


class Service(Strict):
    id: str
    name_vi: str
    name_en: str
    agency: str
    level: Level
    fee: Fee
    processing_time: ProcessingTime
    documents: list[Document] = Field(min_length=1)
    fields: list[FormField] = Field(min_length=1)
    result_delivery: list[Delivery] = Field(min_length=1)
    volume: Volume
    codes: list[ProcedureCode] = []
    sub_results: list[SubResult] = []
    source: Literal["seed", "press", "press (medium)"] = "press"
    latency_budget_seconds: float = Field(
        default=300, gt=0, description="login→submit budget; Decision 1565/QĐ-TTg aims at under 5 minutes"
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError("id must be a lowercase slug like dang-ky-khai-sinh")
        return v

    @model_validator(mode="after")
    def _coherent(self) -> Service:
        names: set[str] = set()
        for k, f in enumerate(self.fields):
            if f.name in names:
                raise LocatedValueError(f"duplicate field name {f.name!r}", ("fields", k, "name"))
            names.add(f.name)
        docs: set[str] = set()
        for k, d in enumerate(self.documents):
            if d.id in docs:
                raise LocatedValueError(f"duplicate document id {d.id!r}", ("documents", k, "id"))
            docs.add(d.id)
        if (
            self.level == "full"
            and "electronic" not in self.result_delivery
            and "post" not in self.result_delivery
        ):
            raise LocatedValueError(
                "a full (toàn trình) service must deliver electronically or by post", ("result_delivery",)
            )
        return self

    @property
    def charges_fee(self) -> bool:
        return self.fee.amount > 0


class CommonFields(Strict):
    """Applicant fields every e-form opens with (page 1, 'Thông tin người nộp')."""

    fields: list[FormField]


class Catalog(Strict):
    version: Literal[1]
    agencies: list[Agency]
    applicant: CommonFields
    services: list[Service]

    @model_validator(mode="after")
    def _refs(self) -> Catalog:
        seen: set[str] = set()
        for i, s in enumerate(self.services):
            if s.id in seen:
                raise LocatedValueError(f"duplicate service id {s.id!r}", ("services", i, "id"))
            seen.add(s.id)
        agencies = {a.id for a in self.agencies}
        applicant = {f.name for f in self.applicant.fields}
        for i, s in enumerate(self.services):
            if s.agency not in agencies:
                raise LocatedValueError(
                    f"service {s.id}: agency {s.agency!r} is not one of {sorted(agencies)}",
                    ("services", i, "agency"),
                )
            for j, sub in enumerate(s.sub_results):
                if sub.agency not in agencies:
                    raise LocatedValueError(
                        f"service {s.id}: sub-result agency {sub.agency!r} is not one of {sorted(agencies)}",
                        ("services", i, "sub_results", j, "agency"),
                    )
            for k, f in enumerate(s.fields):
                if f.name in applicant:
                    raise LocatedValueError(
                        f"service {s.id}: field {f.name!r} repeats an applicant field",
                        ("services", i, "fields", k, "name"),
                    )
        return self

    def service(self, service_id: str) -> Service:
        for s in self.services:
            if s.id == service_id:
                return s
        import difflib

        from dvcwatch.core.errors import UnknownServiceError

        close = difflib.get_close_matches(service_id, [s.id for s in self.services], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `dvcwatch catalog` lists them"
        raise UnknownServiceError(f"unknown service id {service_id!r}{hint}")

    def agency(self, agency_id: str) -> Agency:
        return next(a for a in self.agencies if a.id == agency_id)

    def all_fields(self, service: Service) -> list[FormField]:
        return [*self.applicant.fields, *service.fields]

    def by_agency(self) -> dict[str, list[Service]]:
        out: dict[str, list[Service]] = {a.id: [] for a in self.agencies}
        for s in self.services:
            out[s.agency].append(s)
        return {k: v for k, v in out.items() if v}
