"""Type the one-time code sent to the citizen's phone; a code that never comes fails here.

The code comes from the profile's OTP source (`dvcwatch.core.otp_sources`: the sandbox's test endpoint,
an SMS forwarder, a command, TOTP or a person), bounded by the step's own time. Portals that show six
one-digit boxes (`journey.otp_boxes: 6`) get the code typed key by key into the first box: their own
script moves the focus and arms the button, which setting six values directly would skip.
The code is handed to the run's redactor the moment it arrives, before it is typed anywhere.
"""

from __future__ import annotations

import asyncio

from pydantic import TypeAdapter

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.credentials import Secret
from dvcwatch.core.otp_sources import (
    OtpConfig,
    OtpRequest,
    OtpSource,
    OtpUnavailable,
    PromptOtp,
    make_source,
)
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import StepFailure
from playwright_journeys.steps.kind import JourneyStep, have


def source_for(profile: Profile, totp_secret: Secret | None = None) -> OtpSource:
    """The profile's OTP source, built once per sweep: it remembers the codes it already handed out
    (a forwarder keeps showing the last SMS; one TOTP window gives one code), which only works if
    every journey asks the same source. A source that cannot work is a ConfigError before any browser."""
    config = TypeAdapter(OtpConfig).validate_python(profile.otp.source_config())
    source = make_source(config, base_url=profile.base_url, totp_secret=totp_secret)
    if isinstance(source, PromptOtp):
        source.check_terminal()  # nobody to ask (cron, CI): say so now, not once per journey
    return source


async def otp(j: Journey) -> None:
    box = await j.expect("otp_input", "the one-time code box")
    wait = max(0.5, min(j.profile.journey.otp_wait_seconds, j.remaining_ms() / 1000 - 1))
    source = j.otp_source or source_for(j.profile, j.totp_secret)
    request = OtpRequest(cccd=j.username, phone=j.citizen.phone, account=j.account)
    try:
        code = await asyncio.wait_for(source.fetch(request), wait)
    except (OtpUnavailable, TimeoutError):
        raise StepFailure(f"no one-time code arrived in {wait:.0f} s", seen=await j.seen_text()) from None
    j.redactor.add(code)
    if j.profile.journey.otp_boxes > 1:
        await box.press_sequentially(code.reveal(), delay=20, timeout=j.remaining_ms())
    else:
        await box.fill(code.reveal())
    await j.click_and_wait("otp_submit")
    if await j.present("otp_error"):
        raise StepFailure("the one-time code was refused", seen=await j.seen_text("otp_error"))
    if await j.present("otp_input"):
        raise StepFailure("still asked for the one-time code after typing it", seen=await j.seen_text())
    j.detail = f"code from the {j.profile.otp.source} source"


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    return have(profile, "otp_input", "otp_submit")


STEP = JourneyStep("otp", otp, needs=needs, logs_in=True)
