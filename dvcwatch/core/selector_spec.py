"""How a profile names a thing on a page: a CSS string, or the way a citizen finds it (`{label: …}`,
`{role: button, name: …}`, `{text: …}`), and each step's selectors. Apart from the profile so the form
sections (profile_forms) and the profile itself can share them without a loop."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dvcwatch.core.selector_syntax import check_profile_selector
from dvcwatch.core.yamlconfig import check_regex, read_yaml

PLACEHOLDER = re.compile(r"\{(\w+)\}")
ROLES = frozenset(
    [
        "alert",
        "button",
        "checkbox",
        "combobox",
        "dialog",
        "group",
        "heading",
        "link",
        "list",
        "listitem",
        "option",
        "radio",
        "radiogroup",
        "region",
        "row",
        "searchbox",
        "spinbutton",
        "status",
        "tab",
        "table",
        "textbox",
    ]
)


def fill_in(template: str, params: dict[str, str], *, regex: bool = False) -> str:
    """Replace the `{name}`s a profile may use and leave every other brace alone (`\\d{3}` in a
    regex stays a quantifier); in a regex, the values are escaped so a dot in a code stays a dot."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in params:
            return m.group(0)
        value = str(params[m.group(1)])
        return re.escape(value) if regex else value

    return PLACEHOLDER.sub(sub, template)


def _validated(model: type[BaseModel], v: dict[str, Any]) -> Any:
    """Validate a nested mapping so its own first error is the one shown (pydantic would report the
    enclosing union's "input should be a valid string" instead)."""
    try:
        return model.model_validate(v)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ValueError(
            (f"{where}: " if where else "") + first["msg"].removeprefix("Value error, ")
        ) from None


class By(BaseModel):
    """Something found the way a citizen finds it: by its visible label, its role and name, its text
    or placeholder, or (when nothing visible names it) a CSS selector. Text matches exactly unless
    `exact: false` (then: contains, case-insensitive); `regex: true` makes it a regular expression.
    Playwright's own waits apply: a click waits for a button to be enabled, a look for the element
    to be rendered, so script-rendered lists and buttons armed by a check need no extra settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str | None = None
    role: str | None = None
    name: str | None = Field(None, description="with role: the accessible name")
    text: str | None = None
    placeholder: str | None = None
    css: str | None = None
    exact: bool = True
    regex: bool = False

    @model_validator(mode="after")
    def _one_way(self) -> By:
        if self.name is not None and self.role is None:
            raise ValueError("name goes with role (e.g. {role: button, name: Nộp hồ sơ})")
        ways = [k for k in ("label", "role", "text", "placeholder", "css") if getattr(self, k) is not None]
        if len(ways) != 1:
            raise ValueError(
                "give exactly one of label, role (with name), text, placeholder or css"
                + (f"; got {', '.join(ways)}" if ways else "")
            )
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; one of {', '.join(sorted(ROLES))}")
        if self.regex:
            source = self.label or self.name or self.text or self.placeholder or ""
            check_regex(fill_in(source, {}, regex=True))
        return self

    def describe(self) -> str:
        """How a person would say it: `label "Ngày sinh"`, `button "Nộp hồ sơ"`."""
        if self.role:
            return f'{self.role} "{self.name}"' if self.name else f"any {self.role}"
        for k in ("label", "text", "placeholder", "css"):
            if getattr(self, k) is not None:
                return f'{k} "{getattr(self, k)}"'
        return "?"


def _by_if_mapping(v: Any) -> Any:
    """A mapping is a `By`; validating it here gives its own error ("give exactly one of …") rather
    than the union's "input should be a valid string"."""
    if isinstance(v, dict):
        return _validated(By, v)
    return v


# A selector in a profile: a Playwright selector string, a `By`, or null (this portal has none).
Sel = Annotated[str | By | None, BeforeValidator(_by_if_mapping)]


def describe_selector(spec: Sel) -> str:
    if spec is None:
        return "(none on this portal)"
    return spec.describe() if isinstance(spec, By) else spec


class Selectors(BaseModel):
    """Where each thing a citizen looks at or touches is on the page.

    Placeholders: {service} (catalog id), {code} (the portal's procedure code), {name_vi}, {field},
    {label} (the field's label), {document}, {document_name}, {filename}, {agency}, {bank}. The model
    names no portal's page: a selector a profile does not give is the built-in sandbox profile's
    (`profiles/sandbox.yaml`, the sandbox's data-testids, docs/contracts.md §3), so a real portal's
    profile overrides only what differs, and sets `null` what the portal does not have (no "next" button
    on a one-page form, no upload button when documents go up as soon as they are chosen). Selectors
    that default to null are never lent: a portal has them only when its profile says so.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _lent_by_the_sandbox_profile(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        lent = sandbox_selectors()
        missing = [n for n, f in cls.model_fields.items() if f.is_required() and n not in data and n in lent]
        return {**data, **{n: lent[n] for n in missing}} if missing else data

    # pages that can appear at any step; `content` is what a citizen reads (not the portal's header).
    # These stay plain selector strings: load tests read them too ('text=…' and 'css=…' work).
    content: str
    error_page: str
    error_banner: str
    # login, otp
    login_start: Sel = Field(
        None,
        description="journey.login_via: service_button: the button that leads to the login "
        "(null: start_submission)",
    )
    login_cccd: Sel
    login_password: Sel
    login_submit: Sel
    login_error: Sel
    otp_input: Sel
    otp_submit: Sel
    otp_error: Sel
    # find_service
    search_input: Sel
    search_submit: Sel
    search_results: Sel
    service_link: Sel
    service_name: Sel
    service_level: Sel
    service_level_attr: str | None
    start_submission: Sel
    # form
    field: Sel
    field_error: Sel
    form_errors: Sel
    validation_message: Sel  # the portal's words next to a field or document row it refused
    validation_summary: Sel  # its list of what it refused
    form_next: Sel
    # upload
    upload: Sel
    upload_submit: Sel
    upload_error: Sel
    upload_done: Sel = Field(None, description="the file list entry showing {filename} arrived")
    # payment
    review_amount: Sel = Field(None, description="the fee shown before paying (the last look in production)")
    pay_button: Sel
    payment_offline: Sel
    payment_amount: Sel
    bank: Sel
    payment_confirm: Sel
    payment_status: Sel
    # submit
    declaration: Sel
    submit_button: Sel
    confirm_button: Sel = Field(None, description='the modal\'s "Đồng ý", when the portal asks again')
    dossier_code: Sel
    expected_date: Sel
    # tracking
    tracking_input: Sel
    tracking_submit: Sel
    dossier_status: Sel
    dossier_status_attr: str | None
    sub_result: Sel
    # result
    result_download: Sel
    result_in_person: Sel
    result_pending: Sel

    @field_validator("*")
    @classmethod
    def _valid(cls, v: Any, info: ValidationInfo) -> Any:
        return check_profile_selector(v, info.field_name or "")

    def spec(self, name: str) -> Sel:
        return getattr(self, name)

    def get(self, name: str, **params: str) -> Sel:
        """The selector with its placeholders filled in (strings and each text of a `By`)."""
        spec = getattr(self, name)
        if not params or spec is None:
            return spec
        if isinstance(spec, str):
            return fill_in(spec, params)
        update = {
            k: fill_in(v, params, regex=spec.regex)
            for k in ("label", "name", "text", "placeholder", "css")
            if isinstance(v := getattr(spec, k), str)
        }
        return spec.model_copy(update=update)

    def has(self, name: str) -> bool:
        return getattr(self, name) is not None


PROFILES_DIR = Path(__file__).with_name("profiles")
SANDBOX_PROFILE = PROFILES_DIR / "sandbox.yaml"


@functools.cache
def sandbox_selectors() -> dict[str, Any]:
    """The built-in sandbox profile's `selectors:` block, as written: what a profile that omits one gets."""
    data, _ = read_yaml(SANDBOX_PROFILE)
    return dict(data.get("selectors") or {})


REQUIRED_SELECTORS = (
    "login_cccd",
    "login_password",
    "login_submit",
    "otp_input",
    "otp_submit",
    "service_name",
    "start_submission",
    "field",
    "upload",
    "submit_button",
    "dossier_code",
    "tracking_input",
    "tracking_submit",
    "dossier_status",
)
