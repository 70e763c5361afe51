"""Which steps each service's journey takes.

All 25 share the citizen's path of domain.md; a service without a fee skips `payment`. Differences in
fields, documents, fee, level and bundle sub-results are catalog data the steps read, so no service
needs its own module today; one whose flow truly differs would get an entry in `SPECIAL` here.
"""

from __future__ import annotations

from dvcwatch.catalog.models import Service
from dvcwatch.steps import steps_for

SPECIAL: dict[str, list[str]] = {}


def journey_for(service: Service) -> list[str]:
    return list(SPECIAL.get(service.id) or steps_for(service.charges_fee))
