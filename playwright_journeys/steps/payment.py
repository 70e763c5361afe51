"""Pay the fee on the payment platform and come back with a confirmation.

A `full` service that hides the pay button behind "pay at the office" (payment-offline) has quietly
become partly online: the step is skipped, not failed, and the journey records the lower level.
Portals differ on when the fee is paid: the sandbox before submitting (from the review page), many
real ones after (`journey.payment: after_submit`), on another origin, returning to the receipt.
In production without authorisation the step stops where the amount is shown, before paying.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import weakref
from typing import Any

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import By, Profile, describe_selector
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
            "ready to pay" + (f" {shown}" if shown else "") + f"; not paid ({j.profile.look_only_why})"
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
        raise LookOnlyStop(f"the payment page shows {shown}; not paid ({j.profile.look_only_why})")
    bank = j.profile.journey.bank
    box = await j.expect("bank", f"the bank {bank}")
    # a selector naming the bank ({bank}) is the bank itself; one without it is the list to choose in
    option = None if "{bank}" in describe_selector(j.profile.selectors.spec("bank")) else bank
    await choose(j, box, option, what=f"the bank {bank}", selector=j.describe("bank"))
    seen = await _watch_status(j)
    await j.click_and_wait("payment_confirm")
    attr, text = await _confirmation(j, seen)
    if not _paid(j, attr, text):
        raise StepFailure("the payment did not go through", seen=" ".join(text.split()))
    j.detail = f"paid {j.fee_charged:,} ₫ via {bank}" if j.fee_charged is not None else f"paid via {bank}"


def _paid(j: Journey, attr: str | None, text: str) -> bool:
    """The status attribute when the portal has one (exact match: "unpaid" is not "paid"), else the text."""
    ok = [x.lower() for x in j.profile.journey.paid_statuses]
    if attr:
        return attr.lower() in ok
    return any(x in text.lower() for x in ok)


# A gateway's result page may go back to the portal on a script timer, before a look could find it:
# every page the tab loads from here reports the status element the moment it exists (a binding
# survives the navigation that follows). Plain CSS only; other selectors are looked for as usual.
_REPORT = """sel => {
  const report = () => {
    let e; try { e = document.querySelector(sel); } catch (x) { return true; }
    if (!e || !(e.getAttribute('data-status') || (e.innerText || '').trim())) return false;
    window.__dvcwatchPaymentStatus(e.getAttribute('data-status'), e.innerText || '');
    return true;
  };
  if (report()) return;
  // from the document's first node: a page whose own script leaves at once is read before it runs
  const o = new MutationObserver(() => { if (report()) o.disconnect(); });
  o.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
_WATCHES: weakref.WeakKeyDictionary[Any, list[asyncio.Future[tuple[str | None, str]]]] = (
    weakref.WeakKeyDictionary()
)


async def _watch_status(j: Journey) -> asyncio.Future[tuple[str | None, str]] | None:
    """A future resolved by the next page that shows the status, however briefly it shows it."""
    spec = j.sel("payment_status")
    css = spec.css if isinstance(spec, By) else spec
    if not css or "{" in css or ">>" in css or css.startswith(("text=", "xpath=", "//")):
        return None
    seen: asyncio.Future[tuple[str | None, str]] = asyncio.get_running_loop().create_future()
    if j.page not in _WATCHES:
        holder: list[asyncio.Future[tuple[str | None, str]]] = []

        def reported(_source: Any, attr: str | None, text: str) -> None:
            if holder and not holder[-1].done():
                holder[-1].set_result((attr, text))

        await j.page.expose_binding("__dvcwatchPaymentStatus", reported)
        await j.page.add_init_script(f"({_REPORT})({json.dumps(css)})")
        _WATCHES[j.page] = holder
    _WATCHES[j.page].append(seen)
    return seen


async def _confirmation(
    j: Journey, seen: asyncio.Future[tuple[str | None, str]] | None
) -> tuple[str | None, str]:
    """The status's attribute and text, read once: as the page reported it, or by looking; whichever
    comes first. A page with no status at all (the gateway said no) is `the payment did not go through`,
    in its words (Journey.check_refusal), not a missing selector."""
    looking = asyncio.ensure_future(_look(j, seen))
    waits: set[asyncio.Future[Any]] = {looking} | ({seen} if seen is not None else set())
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    if seen is not None and seen.done():
        looking.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await looking
        return seen.result()
    return looking.result()


async def _look(j: Journey, seen: asyncio.Future[tuple[str | None, str]] | None) -> tuple[str | None, str]:
    from playwright.async_api import Error as PlaywrightError

    status = await j.expect("payment_status", "the payment confirmation")
    try:
        got = await status.evaluate(
            "e => [e.getAttribute('data-status'), e.innerText || '']", timeout=min(2000, j.remaining_ms())
        )
        return got[0], got[1]
    except PlaywrightError:  # the page left between the look and the read: it reported as it went
        if seen is None:
            raise
        return await asyncio.wait_for(seen, timeout=j.remaining_ms() / 1000)


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    when = profile.journey.payment
    return (
        ([("pay_button", "payment_offline")] if when == "before_submit" else [])
        + have(profile, "payment_amount", "bank", "payment_confirm", "payment_status")
        + (have(profile, "dossier_code") if when == "after_submit" else [])
    )


STEP = JourneyStep("payment", payment, needs=needs)
