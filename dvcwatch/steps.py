"""The one vocabulary for the steps of a citizen's path (domain.md).

Sandbox faults, journey steps, probe and load-request names, metric labels and reports all use these
names, so that a failure seen by one instrument can be matched with what another saw.
"""

from __future__ import annotations

from typing import Literal

STEPS: tuple[str, ...] = (
    "login",
    "otp",
    "find_service",
    "form",
    "upload",
    "payment",
    "submit",
    "tracking",
    "result",
)

Step = Literal["login", "otp", "find_service", "form", "upload", "payment", "submit", "tracking", "result"]

STEP_LABELS: dict[str, tuple[str, str]] = {
    "login": ("Đăng nhập", "Log in"),
    "otp": ("Mã OTP", "One-time code"),
    "find_service": ("Tìm dịch vụ", "Find the service"),
    "form": ("Điền tờ khai", "Fill the e-form"),
    "upload": ("Đính kèm giấy tờ", "Attach documents"),
    "payment": ("Thanh toán lệ phí", "Pay the fee"),
    "submit": ("Nộp hồ sơ", "Submit"),
    "tracking": ("Tra cứu hồ sơ", "Track the dossier"),
    "result": ("Nhận kết quả", "Get the result"),
}


def steps_for(charges_fee: bool) -> list[str]:
    """A service without a fee has no payment step; everything else is common to all 25."""
    return [s for s in STEPS if charges_fee or s != "payment"]
