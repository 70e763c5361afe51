"""Pay the fee on the payment platform and come back with a confirmation.

A `full` service that hides the pay button behind "pay at the office" (payment-offline) has quietly
become partly online: the step is skipped, not failed, and the journey records the lower level.
"""

from __future__ import annotations

import re

from playwright_journeys.outcome import StepFailure
from playwright_journeys.session import Journey, StepSkipped
from playwright_journeys.steps import step


@step("payment")
async def payment(j: Journey) -> None:
    found = await j.expect_any(["pay_button", "payment_offline", "submit_button"], "the review page")
    if found == "payment_offline" or (found != "pay_button" and await j.present("payment_offline")):
        j.payment_offline = True
        j.level_delivered = "partial"
        raise StepSkipped(f"no online payment: {await j.seen_text('payment_offline')}")
    if found != "pay_button":
        raise StepFailure("the review page offers no way to pay the fee", seen=await j.seen_text())
    await j.click_and_wait("pay_button")
    amount = await j.expect("payment_amount", "the amount to pay")
    digits = re.sub(r"\D", "", await amount.inner_text(timeout=j.remaining_ms()))
    j.fee_charged = int(digits) if digits else None
    bank = j.profile.journey.bank
    await (await j.expect("bank", f"the bank {bank}", bank=bank)).check(timeout=j.remaining_ms())
    await j.click_and_wait("payment_confirm")
    status = await j.expect("payment_status", "the payment confirmation")
    if not await _paid(j, status):
        raise StepFailure("the payment did not go through", seen=await j.seen_text("payment_status"))
    j.detail = f"paid {j.fee_charged:,} ₫ via {bank}" if j.fee_charged is not None else f"paid via {bank}"


async def _paid(j: Journey, status) -> bool:  # type: ignore[no-untyped-def]
    """The status attribute when the portal has one (exact match: "unpaid" is not "paid"), else the text."""
    ok = [x.lower() for x in j.profile.journey.paid_statuses]
    attr = await status.get_attribute("data-status")
    if attr:
        return attr.lower() in ok
    text = (await status.inner_text(timeout=j.remaining_ms())).lower()
    return any(x in text for x in ok)
