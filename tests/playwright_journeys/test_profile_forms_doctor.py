"""Which selectors `profile check` must have seen before it may say exit 0: the ones a healthy journey
of the service cannot pass without, following the profile (login through the service's button,
payment after submission, documents not asked, bundles, no result page)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.profile import load_profile
from playwright_journeys.doctor import needed_selectors, unverified

CATALOG = load_catalog()


def names(profile, service_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{step}:{'|'.join(n)}" for step, n in needed_selectors(profile, CATALOG.service(service_id))]


def test_the_sandbox_journey_needs_every_step_in_order() -> None:
    got = names(load_profile(), "lien-thong-khai-sinh")  # a bundle without a fee
    assert got[:3] == ["login:login_cccd", "login:login_password", "login:login_submit"]
    assert "form:form_next" in got and "upload:upload_submit" in got and "payment:bank" not in got
    assert "tracking:sub_result" in got
    assert got[-1] == "result:result_download|result_in_person|result_pending"
    paid = names(load_profile(), "cap-ho-chieu")
    assert paid.index("payment:pay_button|payment_offline") < paid.index("submit:submit_button")


def test_the_profile_decides_what_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        """version: 2
name: t
base_url: http://127.0.0.1:9
selectors:
  form_next: null
  upload_submit: null
  upload_done: 'li:text-is("{filename}")'
  login_start: {role: button, name: Đăng nhập để nộp}
journey:
  login_via: service_button
  payment: after_submit
  result_path: null
  search_by: none
forms:
  xac-nhan-so-cmnd:
    documents: {don-de-nghi: null}
""",
        encoding="utf-8",
    )
    prof = load_profile(path)
    got = names(prof, "cap-ho-chieu")
    assert got[0] == "login:login_start" and "find_service:search_input" not in got
    assert "form:form_next" not in got and "upload:upload_done" in got
    assert got.index("submit:submit_button") < got.index("payment:payment_amount")
    assert (
        "submit:dossier_code" not in got and "payment:dossier_code" in got
    )  # the receipt comes after paying
    assert not any(n.startswith("result:") for n in got)
    assert "upload:upload" not in names(prof, "xac-nhan-so-cmnd")  # its one document is not asked here


def test_what_the_check_never_reached_is_unverified_and_a_skipped_step_needs_nothing() -> None:
    prof = load_profile()
    needed = needed_selectors(prof, CATALOG.service("cap-ho-chieu"))
    steps = [
        SimpleNamespace(name=n, status=s)
        for n, s in [
            ("login", "passed"),
            ("otp", "passed"),
            ("find_service", "passed"),
            ("form", "passed"),
            ("upload", "passed"),
            ("payment", "passed"),
            ("submit", "not_run"),
            ("tracking", "not_run"),
            ("result", "not_run"),
        ]
    ]
    result = SimpleNamespace(steps=steps, checked_to="payment")
    resolved = {"payment": ['pay_button: [data-testid="pay-button"]']}
    missing = unverified(result, needed, resolved)
    assert ("payment", "bank") in missing and ("payment", "pay_button or payment_offline") not in missing
    assert ("submit", "dossier_code") in missing and ("login", "login_cccd") not in missing
    steps[5] = SimpleNamespace(name="payment", status="skipped")  # the fee moved offline
    skipped = unverified(SimpleNamespace(steps=steps, checked_to=None), needed, resolved)
    assert not any(step == "payment" for step, _ in skipped)
