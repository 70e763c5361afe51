"""Which step a failure belongs to when it happens on another step's page (no browser): the runner's
`_arrival_owner` and `_reached_own_page` against the three profiles.

On the third portal the login goes through the service's own button, so the login step opens
find_service's page (two steps on) and the OTP step ends on the e-form (form's, two steps on); the
sandbox and the other portal keep the usual "the next step's page" case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.profile import Profile, load_profile
from playwright_journeys.runner import _arrival_owner, _reached_own_page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAID = ["login", "otp", "find_service", "form", "upload", "payment", "submit", "tracking", "result"]
FREE = [n for n in PAID if n != "payment"]


@pytest.fixture(scope="module")
def third() -> Profile:
    return load_profile(FIXTURES / "third_portal" / "profile.yaml")


@pytest.fixture(scope="module")
def other() -> Profile:
    return load_profile(FIXTURES / "other_portal" / "profile.yaml")


@pytest.fixture(scope="module")
def sandbox() -> Profile:
    return load_profile()


B = "http://127.0.0.1:8630"


@pytest.mark.parametrize(
    ("current", "url", "owner"),
    [
        ("login", f"{B}/dich-vu-cong/TTHC-301", "find_service"),  # the service page the login starts from
        ("login", f"{B}/tai-khoan/dang-nhap?returnUrl=/x", None),  # its own page
        ("login", f"{B}/tai-khoan/xac-minh", "otp"),  # the next step's page
        ("otp", f"{B}/dich-vu-cong/TTHC-301/to-khai", "form"),  # the e-form the OTP returns to
        ("otp", f"{B}/tai-khoan/xac-minh", None),
        ("form", f"{B}/ho-so-nhap/d1/giay-to", "upload"),
        ("upload", f"{B}/ho-so-nhap/d1/xem-lai", None),  # nobody's page: the step at hand
        ("submit", f"{B}/bien-nhan/H3T.261129.000001", None),
        ("payment", f"{B}/dich-vu-cong/TTHC-301", None),  # an earlier step's page is never blamed
        ("tracking", None, None),
    ],
)
def test_third_portal_failures_belong_to_the_page_they_happened_on(
    third: Profile, current: str, url: str | None, owner: str | None
) -> None:
    assert _arrival_owner(third, PAID, current, url) == owner


def test_a_step_that_never_reached_its_page_is_not_called_done(third: Profile) -> None:
    # the login through the service's button: the service page failed before any login page
    assert not _reached_own_page(third, FREE, "login", "find_service", [None])
    # the OTP typed on its own page, then the e-form failed
    assert _reached_own_page(third, FREE, "otp", "form", [f"{B}/tai-khoan/xac-minh"])
    # the very next step's page: the click that led there was accepted
    assert _reached_own_page(third, FREE, "login", "otp", [None])


def test_sandbox_and_other_portal_keep_the_next_steps_page(sandbox: Profile, other: Profile) -> None:
    s = "http://127.0.0.1:8480"
    assert _arrival_owner(sandbox, PAID, "otp", f"{s}/dich-vu/cap-ho-chieu") == "find_service"
    assert _arrival_owner(sandbox, PAID, "login", f"{s}/dang-nhap/otp") == "otp"
    assert _arrival_owner(sandbox, PAID, "upload", f"{s}/nop-ho-so/cap-ho-chieu/abc/xac-nhan") == "payment"
    assert _arrival_owner(sandbox, FREE, "upload", f"{s}/nop-ho-so/cap-ho-chieu/abc/xac-nhan") == "submit"
    assert _arrival_owner(sandbox, PAID, "form", f"{s}/nop-ho-so/cap-ho-chieu") is None
    o = "http://127.0.0.1:8631"
    assert _arrival_owner(other, PAID, "login", f"{o}/xac-thuc") == "otp"
    after_submit = [*FREE[:6], "payment", *FREE[6:]]  # this portal takes the fee after filing
    assert _arrival_owner(other, after_submit, "submit", f"{o}/thanh-toan/1") == "payment"
    assert _arrival_owner(other, after_submit, "payment", f"{o}/ho-so/1") is None  # back on submit's page
