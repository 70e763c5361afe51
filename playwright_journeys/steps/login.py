"""Log in with the national identity account: CCCD number and password (VNeID's first screen).

The login URL carries `next=` the service's page, as the portal's own "Nộp hồ sơ" button does, so
the portal (and the sandbox's faults) know which service the citizen is after. On a real portal the
login path is often the portal's single sign-on start, which redirects to the identity provider's own
origin; the form is then found there, and the OTP step ends back on the portal.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from playwright_journeys.outcome import StepFailure
from playwright_journeys.session import Journey
from playwright_journeys.steps import step


@step("login")
async def login(j: Journey) -> None:
    j.login_started = time.monotonic()
    nxt = j.profile.url(j.profile.paths.service, **j.params())
    nxt = nxt[len(j.profile.base_url) :] if nxt.startswith(j.profile.base_url) else nxt
    sep = "&" if "?" in j.profile.paths.login else "?"
    await j.goto(j.profile.url(j.profile.paths.login) + f"{sep}next={quote(nxt)}")
    await (await j.expect("login_cccd", "the CCCD number box")).fill(j.username)
    assert j.password is not None
    await (await j.expect("login_password", "the password box")).fill(j.password.reveal())
    await j.click_and_wait("login_submit")
    if await j.present("login_error"):
        raise StepFailure("the login was refused", seen=await j.seen_text("login_error"))
    j.detail = f"account {j.username[:3]}…{j.username[-3:]}"
