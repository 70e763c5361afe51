"""Which steps each service's journey takes, in which order.

All 25 share the citizen's path of domain.md; a service without a fee skips `payment`. Differences in
fields, documents, fee, level and bundle sub-results are catalog data the steps read, so no service
needs its own module today; one whose flow truly differs would get an entry in `SPECIAL` here.
A portal that takes the fee after filing (`journey.payment: after_submit`) swaps the two steps; the
names stay those of the shared vocabulary either way.
"""

from __future__ import annotations

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile
from dvcwatch.core.steps import steps_for

SPECIAL: dict[str, list[str]] = {}


def journey_for(service: Service, profile: Profile | None = None) -> list[str]:
    names = list(SPECIAL.get(service.id) or steps_for(service.charges_fee))
    if profile is not None and profile.journey.payment == "after_submit" and "payment" in names:
        names.remove("payment")
        names.insert(names.index("submit") + 1, "payment")
    return names
