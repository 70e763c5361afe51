"""Pay the fee on the payment platform and come back with a confirmation.

A `full` service that hides the pay button behind "pay at the office" (payment-offline) has quietly
become partly online: the step is skipped, not failed, and the journey records the lower level.
Portals differ on when the fee is paid: the sandbox before submitting (from the review page), many
real ones after (`journey.payment: after_submit`), on another origin, returning to the receipt.
In production without authorisation the step stops where the amount is shown, before paying.
"""

from __future__ import annotations

import re

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile, describe_selector
from playwright_journeys.journey import Journey, StepSkipped
from playwright_journeys.outcome import LookOnlyStop, StepFailure
from playwright_journeys.steps.choose import choose
from playwright_journeys.steps.kind import JourneyStep, have
from playwright_journeys.steps.submit import read_receipt


async def payment(j: Journey) -> None:
    if j.profile.journey.payment == "after_submit":
        await _after_submit(j)
    else:
        await _before_submit(j)


async def _before_submit(j: Journey) -> None:
    found = await j.expect_any(["pay_button", "payment_offline", "submit_button"], "the review page")
    if found == "payment_offline" or (found != "pay_button" and await j.present("payment_offline")):
        j.payment_offline = True
        j.level_delivered = "partial"
        raise StepSkipped(f"no online payment: {await j.seen_text('payment_offline')}")
    if found != "pay_button":
        raise StepFailure("the review page offers no way to pay the fee", seen=await j.seen_text())
    if j.look_only:
        shown = await j.seen_text("review_amount") if await j.present("review_amount") else ""
        raise LookOnlyStop(
            "ready to pay" + (f" {shown}" if shown else "") + "; not paid (production: look, don't touch)"
        )
    await j.click_and_wait("pay_button")
    await _pay_and_confirm(j)


async def _after_submit(j: Journey) -> None:
    found = await j.expect_any(["payment_amount", "payment_offline", "dossier_code"], "the payment page")
    if found != "payment_amount":
        j.payment_offline = True
        j.level_delivered = "partial"
        if not j.dossier_code:
            await read_receipt(j)
        raise StepSkipped("the portal filed the dossier without asking for the fee online")
    await _pay_and_confirm(j)
    await read_receipt(j)


async def _pay_and_confirm(j: Journey) -> None:
    amount = await j.expect("payment_amount", "the amount to pay")
    digits = re.sub(r"\D", "", await amount.inner_text(timeout=j.remaining_ms()))
    j.fee_charged = int(digits) if digits else None
    if j.look_only:
        shown = f"{j.fee_charged:,} ₫" if j.fee_charged is not None else "the amount"
        raise LookOnlyStop(f"the payment page shows {shown}; not paid (production: look, don't touch)")
    bank = j.profile.journey.bank
    box = await j.expect("bank", f"the bank {bank}")
    # a selector naming the bank ({bank}) is the bank itself; one without it is the list to choose in
    option = None if "{bank}" in describe_selector(j.profile.selectors.spec("bank")) else bank
    await choose(j, box, option, what=f"the bank {bank}", selector=j.describe("bank"))
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


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    when = profile.journey.payment
    return (
        ([("pay_button", "payment_offline")] if when == "before_submit" else [])
        + have(profile, "payment_amount", "bank", "payment_confirm", "payment_status")
        + (have(profile, "dossier_code") if when == "after_submit" else [])
    )


STEP = JourneyStep("payment", payment, needs=needs)
