"""The one vocabulary for the steps of a citizen's path (domain.md).

Sandbox faults, journey steps, probe and load-request names, metric labels and reports all use these
names, so that a failure seen by one instrument can be matched with what another saw.
"""

from __future__ import annotations

from typing import Literal

_TABLE: tuple[tuple[str, str, str], ...] = (
    # name (metric label, fault key, report id), Vietnamese label, English label; in the citizen's order
    ("login", "Đăng nhập", "Log in"),
    ("otp", "Mã OTP", "One-time code"),
    ("find_service", "Tìm dịch vụ", "Find the service"),
    ("form", "Điền tờ khai", "Fill the e-form"),
    ("upload", "Đính kèm giấy tờ", "Attach documents"),
    ("payment", "Thanh toán lệ phí", "Pay the fee"),
    ("submit", "Nộp hồ sơ", "Submit"),
    ("tracking", "Tra cứu hồ sơ", "Track the dossier"),
    ("result", "Nhận kết quả", "Get the result"),
)

STEPS: tuple[str, ...] = tuple(name for name, _, _ in _TABLE)
Step = Literal[STEPS]  # type: ignore[valid-type]  # built from the table: pydantic validates against it
STEP_LABELS: dict[str, tuple[str, str]] = {name: (vi, en) for name, vi, en in _TABLE}


def steps_for(charges_fee: bool) -> list[str]:
    """A service without a fee has no payment step; everything else is common to all 25."""
    return [s for s in STEPS if charges_fee or s != "payment"]
