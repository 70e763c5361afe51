"""Log in with the national identity account: CCCD number and password (VNeID's first screen).

A citizen reaches the login from a service: the login URL carries the service's page (as the portal's
own "Nộp hồ sơ" button does), so the portal, and the sandbox's faults, know which service the citizen
is after. The profile says how: `paths.login` as a template (`{service_url}`, `{service_path}`,
`{code}`) or with `?<journey.login_return_param>=` added (default `next`); or, for portals whose
login address is not public, `journey.login_via: service_button`: open the service's page, press its
own button (`login_start`, else `start_submission`) and follow the portal to its login page. On a real
portal the login is often a single sign-on start that redirects to the identity provider's origin;
the form is then found there, and the OTP step ends back on the portal.
"""

from __future__ import annotations

import time

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import StepFailure
from playwright_journeys.steps.kind import JourneyStep, have


async def login(j: Journey) -> None:
    j.login_started = time.monotonic()
    if j.profile.journey.login_via == "service_button":
        await j.goto(j.profile.url(j.profile.paths.service, **j.params()))
        button = "login_start" if j.has("login_start") else "start_submission"
        await j.expect(button, "the service's button that leads to the login")
        await j.click_and_wait(button)
    else:
        await j.goto(j.profile.login_url(j.params()))
    await (await j.expect("login_cccd", "the CCCD number box")).fill(j.username)
    assert j.password is not None
    await (await j.expect("login_password", "the password box")).fill(j.password.reveal())
    await j.click_and_wait("login_submit")
    if await j.present("login_error"):
        raise StepFailure("the login was refused", seen=await j.seen_text("login_error"))
    j.detail = f"account {j.username[:3]}…{j.username[-3:]}"


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    button: list[tuple[str, ...]] = []
    if profile.journey.login_via == "service_button":
        button = have(profile, "login_start" if profile.selectors.has("login_start") else "start_submission")
    return button + have(profile, "login_cccd", "login_password", "login_submit")


STEP = JourneyStep("login", login, needs=needs, logs_in=True)
