"""Target profiles: everything portal-specific the harness needs, as data.

A profile names the portal's base URL, its paths, how to get an OTP, which test identities to use,
and (for journeys) the selectors of each step. The sandbox's profile ships in `dvcwatch/core/profiles/`;
a real portal needs only a new profile, never code. Journeys, probes and load tests all read it.

Version 2 (docs/real-portals.md) adds what real portals need: selectors written the way a citizen finds
things (`{label: "Ngày sinh"}`, `{role: button, name: "Nộp hồ sơ"}`, `{text: …}`) or `null` where the
portal has no such thing, other origins, procedure codes, a confirmation modal, payment after submission,
test accounts with secrets kept elsewhere, the environment (production is look-don't-touch) and
politeness. Version 1 files still load; a v2-only key in a v1 file is refused with a hint.
"""

from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from dvcwatch.core.credentials import AccountsConfig, AccountSpec
from dvcwatch.core.errors import ConfigError, LocatedValueError
from dvcwatch.core.flows.rules import FlowRules
from dvcwatch.core.otp_sources import CONFIGS
from dvcwatch.core.politeness import PolitenessConfig
from dvcwatch.core.profile_forms import (  # noqa: F401  (re-exported: the profile's public face)
    DEFAULT_FORM,
    IDENTITY_ATTRS,
    SLUG,
    ExtraDocument,
    ExtraField,
    FieldForm,
    FromIdentity,
    Generated,
    ServiceForm,
    ValueSpec,
)
from dvcwatch.core.selector_spec import (  # noqa: F401  (re-exported)
    PLACEHOLDER,
    PROFILES_DIR,
    REQUIRED_SELECTORS,
    ROLES,
    SANDBOX_PROFILE,
    By,
    Sel,
    Selectors,
    describe_selector,
    fill_in,
    sandbox_selectors,
)
from dvcwatch.core.target import resolve_target
from dvcwatch.core.yamlconfig import check_regex, load_model, read_yaml, validate


class Paths(BaseModel):
    """URL paths (relative to base_url, or absolute URLs on another origin)."""

    model_config = ConfigDict(extra="forbid")
    home: str = "/"
    login: str = Field(
        "/dang-nhap",
        description="where a citizen logs in; may use {service_url}, {service_path}, {code}, {service} "
        "(else ?<journey.login_return_param>=<service page> is added)",
    )
    service: str = Field("/dich-vu/{service}", description="a service's page; {service} or {code}")
    search: str = "/tim-kiem?q={query}"
    tracking: str = "/tra-cuu?ma={dossier}"
    payment_gateway: str = "/cong-thanh-toan/"
    api_base: str = "/api/v1"
    health: str = "/api/v1/health"


class OtpSource(BaseModel):
    """Where the one-time code comes from; the keys of `dvcwatch.core.otp_sources` (checked there per source)."""

    model_config = ConfigDict(extra="forbid")
    source: Literal[tuple(CONFIGS)] = "sandbox"  # type: ignore[valid-type]  # the registered sources
    url: str | None = "/_sandbox/otp?cccd={cccd}"
    command: str | list[str] | None = None
    totp_secret_env: str | None = None
    timeout: float | None = Field(None, gt=0, le=900)
    poll_interval: float | None = Field(None, gt=0, le=60)
    regex: str | None = None
    json_field: str | None = None
    token_env: str | None = None
    digits: int | None = Field(None, ge=6, le=8)
    period: int | None = Field(None, ge=10, le=300)
    algorithm: Literal["sha1", "sha256", "sha512"] | None = None
    min_validity: float | None = Field(None, ge=0)

    def source_config(self) -> dict[str, Any]:
        """The keys this source takes, as `dvcwatch.core.otp_sources.OtpConfig` reads them (a probe's
        `otp:` block, or the journey's before it bounds the timeout by the step's)."""
        raw = self.model_dump(exclude_none=True)
        if isinstance(raw.get("command"), str):
            raw["command"] = shlex.split(raw["command"])
        return {k: v for k, v in raw.items() if k in CONFIGS[self.source].model_fields}


class Identities(BaseModel):
    """Synthetic citizens (sandbox) are derived from a seed; the sandbox pre-registers the same ones."""

    model_config = ConfigDict(extra="forbid")
    seed: int = 42
    count: int = Field(200, ge=1, le=100_000)


class Place(BaseModel):
    """One select of a cascade (Tỉnh/Thành phố → Quận/Huyện → Phường/Xã), chosen by option text."""

    model_config = ConfigDict(extra="forbid")
    label: str
    option: str


class JourneySettings(BaseModel):
    """How journeys behave on this portal: URLs the `paths` do not cover, waits, the bank to pay with."""

    model_config = ConfigDict(extra="forbid")
    start_path: str = "/nop-ho-so/{service}"
    result_path: str | None = Field(
        "/ho-so/{dossier}/ket-qua", description="null: the portal shows results elsewhere (step skipped)"
    )
    step_timeout_seconds: float = Field(20, gt=0, le=600)
    otp_wait_seconds: float = Field(10, gt=0, le=600)
    otp_boxes: int = Field(
        1, ge=1, le=8, description="N one-digit boxes: the code is typed into the first, the page moves on"
    )
    result_wait_seconds: float = Field(
        0, ge=0, le=600, description="how long to look again at a result still being processed"
    )
    bank: str = "vcb"
    form_identity: Literal["synthetic", "account"] = Field(
        "synthetic",
        description="whose CCCD fills the e-form when a test account logs in: a synthetic citizen's "
        "(default), or the account's own (its username); the other details stay the synthetic citizen's",
    )
    production_uploads: bool = Field(
        False,
        description="production: attach the documents (where files go up as soon as they are chosen, "
        "choosing sends them); default false: stop before the documents and say so",
    )
    login_via: Literal["url", "service_button"] = Field(
        "url",
        description="service_button: open the service's page and press its own button, as citizens "
        "do, and follow the portal to its login (for portals whose login URL is not public)",
    )
    login_return_param: str | None = Field(
        "next", description="the query parameter naming the page to come back to; null: none"
    )
    search_by: Literal["name_vi", "id", "code", "none"] = Field(
        "name_vi", description="what the citizen types into the search box; none = open the service page"
    )
    search_navigates: bool = Field(True, description="false: results appear by script on the same page")
    tracking_navigates: bool = Field(True, description="false: the status appears by script")
    payment: Literal["before_submit", "after_submit"] = Field(
        "before_submit", description="after_submit: the portal files the dossier, then sends you to pay"
    )
    date_format: str = Field("%d/%m/%Y", description="how dates are typed into text boxes (strftime)")
    field_labels: dict[str, str] = Field(
        default={}, description="catalog field → the portal's label, where it differs from label_vi"
    )
    places: list[Place] = Field(default=[], description="cascading selects filled in order after the fields")
    dossier_code_pattern: str = Field(
        r"\S{6,}",
        description="a dossier code in the receipt's text (first group if any); success is its presence, "
        "not a word",
    )
    expected_date_pattern: str | None = Field(None, description="the appointment date in its text (group 1)")
    service_levels: dict[str, Literal["full", "partial"]] = Field(
        default={"Toàn trình": "full", "Một phần": "partial"},
        description="the level's text on the service page, when it has no level attribute",
    )
    paid_statuses: list[str] = ["paid", "Đã thanh toán"]
    step_pages: dict[str, list[str]] = Field(
        default={
            "login": [r"^/dang-nhap$"],
            "otp": [r"^/dang-nhap/otp$"],
            "find_service": [r"^/$", r"^/tim-kiem", r"^/dich-vu/"],
            "form": [r"^/nop-ho-so/[^/]+$", r"/thong-tin$", r"^/nop-ho-so/[^/]+/[^/]+/ho-so$"],
            "upload": [r"/giay-to$"],
            "payment": [r"/xac-nhan$", r"/thanh-toan$", r"/ket-qua-thanh-toan$", r"^/cong-thanh-toan/"],
            "submit": [r"/xac-nhan$", r"/nop$", r"^/ho-so/[^/]+$"],
            "tracking": [r"^/tra-cuu"],
            "result": [r"^/ho-so/[^/]+/ket-qua"],
        },
        description="which step each page (URL path regex) serves; a page that fails as the citizen "
        "arrives on it is blamed on its own step, not on the click that led there",
    )
    plugins: dict[str, str] = Field(
        default={},
        description="step name → a step plugin: an entry point of group dvcwatch.core.steps, or module:function",
    )

    def steps_serving(self, path: str) -> set[str]:
        return {step for step, pats in self.step_pages.items() if any(re.search(p, path) for p in pats)}

    tracking_statuses: list[str] = ["received", "processing", "done"]

    @field_validator("dossier_code_pattern", "expected_date_pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        return None if v is None else check_regex(v)

    @field_validator("plugins")
    @classmethod
    def _known_steps(cls, v: dict[str, str]) -> dict[str, str]:
        from dvcwatch.core.steps import STEPS

        for name in v:
            if name not in STEPS:
                raise LocatedValueError(f"not a step of the vocabulary ({', '.join(STEPS)})", (name,))
        return v


# What a portal-only field is filled with (docs/real-portals.md §4a).


class ServiceMapping(BaseModel):
    """How this portal knows one catalog service."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, description="the portal's procedure code (mã thủ tục)")


V2_ONLY = (
    "origins",
    "services",
    "allow_submit",
    "accounts",
    "account",
    "secrets_file",
    "politeness",
    "forms",
)


class Profile(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: Literal[1, 2] = 1
    name: str
    base_url: str
    environment: Literal["sandbox", "staging", "production"] = "sandbox"
    origins: dict[str, str] = Field(default={}, description="other hosts a journey visits: identity, payment")
    services: dict[str, ServiceMapping] = Field(
        default={}, description="catalog id → the portal's procedure code; default: the catalog's first code"
    )
    allow_submit: bool = Field(
        False, description="production only: submitting and paying also need --i-have-authorisation"
    )
    paths: Paths = Paths()
    otp: OtpSource = OtpSource()
    identities: Identities = Identities()
    secrets_file: str | None = None
    accounts: list[AccountSpec] = []
    account: str | None = Field(None, description="the account journeys log in with (from accounts)")
    # Sharing test accounts (playwright_journeys/runner.py): login+OTP is one at a time per account, so
    # journeys never take each other's codes; these say over how many accounts, how many sessions at
    # once, and whether a sweep logs in once per account.
    account_pool: list[str] = Field(
        default=[],
        description="spread journeys over these accounts (names under accounts) instead of `account`",
    )
    sessions_per_account: int | None = Field(
        None, ge=1, description="sessions the portal allows one account at once; journeys wait for a free one"
    )
    reuse_login: bool | None = Field(
        None,
        description="log in once per account per sweep and reuse the session (default: in production "
        "only, where every login sends an SMS to the operator's phone)",
    )
    flows: FlowRules = Field(
        default_factory=FlowRules, description="rules `dvcwatch flows compile` adds to its correlation"
    )

    @model_validator(mode="after")
    def _pool(self) -> Profile:
        known = {a.name: a for a in self.accounts}
        for i, name in enumerate(self.account_pool):
            if name not in known:
                raise LocatedValueError(f"no account {name!r} under accounts", ("account_pool", i))
            if self.otp.source == "totp" and not self.otp.totp_secret_env and known[name].totp_secret is None:
                raise LocatedValueError(
                    "a totp source needs each pooled account's totp_secret", ("account_pool", i)
                )
        if self.account_pool and self.account is not None and self.account not in self.account_pool:
            raise LocatedValueError("give account or account_pool, or name account in the pool", ("account",))
        return self

    politeness: PolitenessConfig = PolitenessConfig()
    selectors: Selectors = Field(default_factory=Selectors)
    journey: JourneySettings = JourneySettings()
    forms: dict[str, ServiceForm] = Field(
        default={},
        description="catalog service id (or default) → its e-form on this portal: labels, absent and "
        "portal-only fields, options, document and agency names",
    )
    _looking_only: bool = PrivateAttr(False)
    _source: str = PrivateAttr("")
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("origins")
    @classmethod
    def _origins(cls, v: dict[str, str]) -> dict[str, str]:
        for k, url in v.items():
            if not url.startswith(("http://", "https://")):
                raise LocatedValueError("an origin must start with http:// or https://", (k,))
        return {k: url.rstrip("/") for k, url in v.items()}

    @model_validator(mode="before")
    @classmethod
    def _v2_keys_need_v2(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("version") == 2:
            known = set(cls.model_fields)
            for key in data:
                if key not in known:
                    close = difflib.get_close_matches(str(key), known, n=1)
                    hint = f"; did you mean {close[0]}?" if close else ""
                    raise LocatedValueError(f"unknown field (check the spelling){hint}", (key,))
        if isinstance(data, dict) and data.get("version", 1) == 1:
            for key in V2_ONLY:
                if key in data:
                    raise LocatedValueError(f"{key} is a profile v2 key: set version: 2", (key,))
            for key, spec in (data.get("selectors") or {}).items():
                if not isinstance(spec, str):
                    raise LocatedValueError(
                        "a v1 selector is a string; {label: …}, {role: …} and null need version: 2",
                        ("selectors", key),
                    )
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Profile:
        for name in REQUIRED_SELECTORS:
            if not self.selectors.has(name):
                raise LocatedValueError(
                    "every portal has one: give a selector, not null", ("selectors", name)
                )
        if self.accounts:
            names = [a.name for a in self.accounts]
            if len(set(names)) != len(names):
                raise LocatedValueError("duplicate account names", ("accounts",))
        if self.account is not None and self.account not in {a.name for a in self.accounts}:
            known = ", ".join(a.name for a in self.accounts) or "none"
            raise LocatedValueError(
                f"no account {self.account!r} under accounts (known: {known})", ("account",)
            )
        if self.otp.source == "totp" and not self.otp.totp_secret_env:
            spec = next((a for a in self.accounts if a.name == self.account), None)
            if spec is None or spec.totp_secret is None:
                raise LocatedValueError(
                    "a totp source needs totp_secret_env, or `account:` naming an account with totp_secret",
                    ("otp", "totp_secret_env"),
                )
        if self.allow_submit and self.environment != "production":
            raise LocatedValueError("allow_submit only means something in production", ("allow_submit",))
        return self

    def url(self, path: str, **params: str) -> str:
        p = fill_in(path, params) if params else path
        if p.startswith(("http://", "https://")):
            return p
        return self.base_url + (p if p.startswith("/") else "/" + p)

    def code_of(self, service: Any) -> str:
        """The portal's identifier of a catalog service: the profile's map, the catalog's first code,
        else the catalog id (the sandbox knows services by id)."""
        mapped = self.services.get(service.id)
        if mapped:
            return mapped.code
        return service.codes[0].code if service.codes else service.id

    def form_for(self, service_id: str) -> ServiceForm:
        """The service's e-form section over the default one (either may be missing)."""
        base = self.forms.get(DEFAULT_FORM, ServiceForm())
        own = self.forms.get(service_id)
        return own.over(base) if own is not None else base

    def field_label(self, service_id: str, field: Any) -> str:
        """How the portal labels a catalog field: the service's section, the default section,
        `journey.field_labels`, else the catalog's own label."""
        spec = self.form_for(service_id).fields.get(field.name)
        if spec is not None and spec.label:
            return spec.label
        return self.journey.field_labels.get(field.name, field.label_vi)

    def form_absent(self, service_id: str, field: Any) -> bool:
        """The profile says this portal does not ask the catalog field."""
        spec = self.form_for(service_id).fields.get(field.name)
        return spec is not None and spec.absent

    def document_name(self, service_id: str, document: Any) -> str | None:
        """The portal's name for a catalog document; None when the profile says it is not asked."""
        names = self.form_for(service_id).documents
        if document.id in names:
            return names[document.id]
        return document.name_vi

    def agency_name(self, service_id: str, agency_id: str) -> str:
        return self.form_for(service_id).agencies.get(agency_id, agency_id)

    def login_url(self, params: dict[str, str]) -> str:
        """Where the login starts for this service: `paths.login` with its placeholders, or with
        `?<login_return_param>=<service page>` added, as the portal's own button would send it."""
        service_url = self.url(self.paths.service, **params)
        service_path = (
            service_url.removeprefix(self.base_url) if service_url.startswith(self.base_url) else service_url
        )
        template = self.paths.login
        if "{service_url}" in template or "{service_path}" in template:
            return self.url(
                template,
                **params,
                service_url=quote(service_url, safe=""),
                service_path=quote(service_path, safe=""),
            )
        url = self.url(template, **params)
        name = self.journey.login_return_param
        if name is None:
            return url
        return f"{url}{'&' if '?' in url else '?'}{name}={quote(service_path)}"

    def check_forms(self, catalog: Any) -> None:
        """The `forms:` sections name services, fields, options, documents and agencies the catalog
        has: a typo would otherwise silently leave a field unmapped. Needs the catalog, so it runs
        when a sweep or a check starts, not when the file is read."""
        known = {s.id: s for s in catalog.services}
        for sid, form in self.forms.items():
            if sid == DEFAULT_FORM:
                services = list(catalog.services)
            elif sid not in known:
                close = difflib.get_close_matches(sid, known, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise self._located(f"no service {sid!r} in the catalog{hint}", ("forms", sid))
            else:
                services = [known[sid]]
            fields = {f.name: f for s in services for f in catalog.all_fields(s)}
            for name, spec in form.fields.items():
                if name not in fields:
                    close = difflib.get_close_matches(name, fields, n=1)
                    hint = f"; did you mean {close[0]}?" if close else ""
                    raise self._located(
                        f"the catalog's {sid} form has no field {name!r}{hint} (a field only this portal "
                        "asks goes under extra:)",
                        ("forms", sid, "fields", name),
                    )
                offered = fields[name].options
                for value in spec.options:
                    if offered and value not in offered:
                        raise self._located(
                            f"{value!r} is not a catalog option of {name} ({', '.join(offered)})",
                            ("forms", sid, "fields", name, "options", value),
                        )
            for name in form.extra:
                if name in fields:
                    raise self._located(
                        f"{name} is a catalog field: map it under fields:, not extra:",
                        ("forms", sid, "extra", name),
                    )
            documents = {d.id for s in services for d in s.documents}
            for doc in form.documents:
                if doc not in documents:
                    raise self._located(
                        f"the catalog's {sid} documents have no {doc!r} ({', '.join(sorted(documents))})",
                        ("forms", sid, "documents", doc),
                    )
            for doc in form.extra_documents:
                if doc in documents:
                    raise self._located(
                        f"{doc} is a catalog document: map it under documents:, not extra_documents:",
                        ("forms", sid, "extra_documents", doc),
                    )
            agencies = {a.id for a in catalog.agencies}
            for agency in form.agencies:
                if agency not in agencies:
                    raise self._located(
                        f"no agency {agency!r} in the catalog", ("forms", sid, "agencies", agency)
                    )
        undecided = [(sid, what) for sid, form in self.forms.items() for what in form.decide]
        if undecided:
            names = "; ".join(f"{sid}: {what}" for sid, what in undecided)
            raise self._located(
                f"{len(undecided)} entr{'y' if len(undecided) == 1 else 'ies'} of the e-forms left for a "
                f"person to decide (forms.<service>.decide, written by profile scaffold): {names}",
                ("forms", undecided[0][0], "decide", undecided[0][1]),
            )

    def _located(self, message: str, loc: tuple[str | int, ...]) -> ConfigError:
        from dvcwatch.core.yamlconfig import line_for

        return ConfigError(
            message, path=self._source or None, line=line_for(self._lines, loc), field=".".join(map(str, loc))
        )

    def accounts_config(self) -> AccountsConfig:
        """The test accounts and where their secrets live, for `dvcwatch.core.credentials.AccountResolver`."""
        return AccountsConfig(secrets_file=self.secrets_file, accounts=self.accounts)

    @property
    def look_only(self) -> bool:
        """Production: stop at the last reversible point unless submitting was allowed (and authorised);
        any environment when a check asked to look only (`looking_only`)."""
        return self.environment == "production" or self._looking_only

    def looking_only(self) -> Profile:
        """This profile walked look-don't-touch whatever its environment (`profile check`), without
        calling a staging portal production in what it reports."""
        copy = self.model_copy(update={"allow_submit": False})
        copy._looking_only = True
        return copy

    @property
    def look_only_why(self) -> str:
        """Why a journey stops at the last reversible point, in the words its report uses."""
        if self.environment == "production":
            return "production: look, don't touch"
        return f"a look-only check of this {self.environment} profile"

    def hosts(self) -> list[str]:
        return [self.base_url, *self.origins.values()]


def load_profile(target: str | Path | None = None) -> Profile:
    """`target` is a profile file, or a base URL (the sandbox profile pointed at that address)."""
    if target is None:
        return load_model(Profile, SANDBOX_PROFILE)
    resolved = resolve_target(target)
    if resolved.url is not None:
        prof = load_model(Profile, SANDBOX_PROFILE)
        return prof.model_copy(update={"base_url": resolved.url})
    t = str(target)
    data, lines = read_yaml(t)
    prof = validate(Profile, data, lines, t)
    prof._source, prof._lines = t, lines  # for errors found later, against the catalog (check_forms)
    return prof
