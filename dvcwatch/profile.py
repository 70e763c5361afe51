"""Target profiles: everything portal-specific the harness needs, as data.

A profile names the portal's base URL, its paths, how to get an OTP, which test identities to use,
and (for journeys) the selectors of each step. The sandbox's profile ships in `dvcwatch/profiles/`;
a real portal needs only a new profile, never code. Journeys, probes and load tests all read it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dvcwatch.errors import ConfigError
from dvcwatch.yamlconfig import load_model

PROFILES_DIR = Path(__file__).with_name("profiles")
SANDBOX_PROFILE = PROFILES_DIR / "sandbox.yaml"


class Paths(BaseModel):
    """URL paths (relative to base_url, or absolute URLs on another origin)."""

    model_config = ConfigDict(extra="forbid")
    home: str = "/"
    login: str = "/dang-nhap"
    service: str = Field("/dich-vu/{service}", description="a service's page; {service} or {code}")
    search: str = "/tim-kiem?q={query}"
    tracking: str = "/tra-cuu?ma={dossier}"
    payment_gateway: str = "/cong-thanh-toan/"
    api_base: str = "/api/v1"
    health: str = "/api/v1/health"


class OtpSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["sandbox", "http", "command", "totp", "prompt"] = "sandbox"
    url: str | None = "/_sandbox/otp?cccd={cccd}"
    command: str | None = None
    totp_secret_env: str | None = None


class Identities(BaseModel):
    """Synthetic citizens (sandbox) are derived from a seed; the sandbox pre-registers the same ones."""

    model_config = ConfigDict(extra="forbid")
    seed: int = 42
    count: int = Field(200, ge=1, le=100_000)


class Selectors(BaseModel):
    """Where each thing a citizen looks at or touches is on the page (Playwright selectors).

    Placeholders: {service}, {field}, {document}, {agency}, {bank}. The defaults are the sandbox's
    data-testids (docs/contracts.md §3); a real portal's profile overrides only what differs.
    """

    model_config = ConfigDict(extra="forbid")
    # pages that can appear at any step; `content` is what a citizen reads (not the portal's header)
    content: str = "main"
    error_page: str = '[data-testid="error-page"]'
    error_banner: str = '[data-testid="error-banner"]'
    # login, otp
    login_cccd: str = '[data-testid="login-cccd"]'
    login_password: str = '[data-testid="login-password"]'
    login_submit: str = '[data-testid="login-submit"]'
    login_error: str = '[data-testid="login-error"]'
    otp_input: str = '[data-testid="otp-input"]'
    otp_submit: str = '[data-testid="otp-submit"]'
    otp_error: str = '[data-testid="otp-error"]'
    # find_service
    search_input: str = '[data-testid="search-input"]'
    search_submit: str = '[data-testid="search-submit"]'
    search_results: str = '[data-testid="search-results"]'
    service_link: str = '[data-testid="service-link-{service}"]'
    service_name: str = '[data-testid="service-name"]'
    service_level: str = '[data-testid="service-level"]'
    service_level_attr: str = "data-level"
    start_submission: str = '[data-testid="start-submission"]'
    # form
    field: str = '[data-testid="field-{field}"]'
    field_error: str = '[data-testid="field-error-{field}"]'
    form_errors: str = '[data-testid="form-errors"]'
    form_next: str = '[data-testid="form-next"]'
    # upload
    upload: str = '[data-testid="upload-{document}"]'
    upload_submit: str = '[data-testid="upload-submit"]'
    upload_error: str = '[data-testid="upload-error-{document}"]'
    # payment
    pay_button: str = '[data-testid="pay-button"]'
    payment_offline: str = '[data-testid="payment-offline"]'
    payment_amount: str = '[data-testid="payment-amount"]'
    bank: str = '[data-testid="bank-{bank}"]'
    payment_confirm: str = '[data-testid="payment-confirm"]'
    payment_status: str = '[data-testid="payment-status"]'
    # submit
    declaration: str = '[data-testid="declaration"]'
    submit_button: str = '[data-testid="submit-button"]'
    dossier_code: str = '[data-testid="dossier-code"]'
    expected_date: str = '[data-testid="expected-date"]'
    # tracking
    tracking_input: str = '[data-testid="tracking-input"]'
    tracking_submit: str = '[data-testid="tracking-submit"]'
    dossier_status: str = '[data-testid="dossier-status"]'
    dossier_status_attr: str = "data-status"
    sub_result: str = '[data-testid="sub-result-{agency}"]'
    # result
    result_download: str = '[data-testid="result-download"]'
    result_in_person: str = '[data-testid="result-in-person"]'
    result_pending: str = '[data-testid="result-pending"]'

    def get(self, name: str, **params: str) -> str:
        return getattr(self, name).format(**params) if params else getattr(self, name)


class JourneySettings(BaseModel):
    """How journeys behave on this portal: URLs the `paths` do not cover, waits, the bank to pay with."""

    model_config = ConfigDict(extra="forbid")
    start_path: str = "/nop-ho-so/{service}"
    result_path: str = "/ho-so/{dossier}/ket-qua"
    step_timeout_seconds: float = Field(20, gt=0, le=600)
    otp_wait_seconds: float = Field(10, gt=0, le=600)
    result_wait_seconds: float = Field(
        0, ge=0, le=600, description="how long to look again at a result still being processed"
    )
    bank: str = "vcb"
    search_by: Literal["name_vi", "id", "none"] = Field(
        "name_vi", description="what the citizen types into the search box; none = open the service page"
    )
    dossier_code_pattern: str = Field(
        r"\S{6,}", description="a dossier code on the receipt; success is its presence, not a word"
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

    def steps_serving(self, path: str) -> set[str]:
        return {step for step, pats in self.step_pages.items() if any(re.search(p, path) for p in pats)}

    tracking_statuses: list[str] = ["received", "processing", "done"]


class Profile(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: Literal[1, 2] = 1
    name: str
    base_url: str
    environment: Literal["sandbox", "staging", "production"] = "sandbox"
    paths: Paths = Paths()
    otp: OtpSource = OtpSource()
    identities: Identities = Identities()
    selectors: Selectors = Selectors()
    journey: JourneySettings = JourneySettings()

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return v.rstrip("/")

    def url(self, path: str, **params: str) -> str:
        p = path.format(**params) if params else path
        if p.startswith(("http://", "https://")):
            return p
        return self.base_url + (p if p.startswith("/") else "/" + p)


def load_profile(target: str | Path | None = None) -> Profile:
    """`target` is a profile file, or a base URL (the sandbox profile pointed at that address)."""
    if target is None:
        return load_model(Profile, SANDBOX_PROFILE)
    t = str(target)
    if t.startswith(("http://", "https://")):
        prof = load_model(Profile, SANDBOX_PROFILE)
        return prof.model_copy(update={"base_url": t.rstrip("/")})
    if not Path(t).exists():
        raise ConfigError("profile file not found (give a YAML file or an http(s):// base URL)", path=t)
    return load_model(Profile, t)
