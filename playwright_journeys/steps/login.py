"""Log in with the national identity account: CCCD number and password (VNeID's first screen).

The login URL carries `next=` the service's page, as the portal's own "Nộp hồ sơ" button does, so
the portal (and the sandbox's faults) know which service the citizen is after.
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
    nxt = j.profile.paths.service.format(service=j.service.id, code=_first_code(j))
    sep = "&" if "?" in j.profile.paths.login else "?"
    await j.goto(j.profile.url(j.profile.paths.login) + f"{sep}next={quote(nxt)}")
    await (await j.expect("login_cccd", "the CCCD number box")).fill(j.citizen.cccd)
    await j.loc("login_password").fill(j.citizen.password)
    await j.click_and_wait("login_submit")
    if await j.present("login_error"):
        raise StepFailure("the login was refused", seen=await j.seen_text("login_error"))
    j.detail = f"citizen {j.citizen.cccd[:3]}…{j.citizen.cccd[-3:]}"


def _first_code(j: Journey) -> str:
    return j.service.codes[0].code if j.service.codes else j.service.id
