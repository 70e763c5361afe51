"""What a profile's value for a portal-only field types: fixed, the citizen's own, or made up of a
type the portal checks, the same for the same citizen on every run."""

from __future__ import annotations

import re
from datetime import date

import pytest

from dvcwatch.core.catalog.models import TYPE_PATTERNS
from dvcwatch.core.formdata import GENERATED_TEXT, profile_value
from dvcwatch.core.identities import citizens
from dvcwatch.core.profile import FromIdentity, Generated

PEOPLE = citizens(42, 5)
TODAY = date(2026, 2, 27)


def test_a_fixed_value_and_an_identity_attribute() -> None:
    who = PEOPLE[0]
    assert profile_value("Không", who) == "Không"
    assert profile_value(FromIdentity(attr="email"), who) == who.email
    assert profile_value(FromIdentity(attr="citizen.phone"), who) == who.phone


def test_a_generated_date_counts_days_from_today_in_the_catalogs_format() -> None:
    who = PEOPLE[0]
    assert profile_value(Generated(generate="date"), who, today=TODAY) == "27/02/2026"
    assert profile_value(Generated(generate="date", offset_days=3), who, today=TODAY) == "02/03/2026"
    assert profile_value(Generated(generate="date", offset_days=-365 * 30), who, today=TODAY) == "06/03/1996"


@pytest.mark.parametrize("who", PEOPLE)
def test_generated_phone_number_and_text_are_valid_and_the_same_every_run(who) -> None:  # type: ignore[no-untyped-def]
    phone = profile_value(Generated(generate="phone"), who)
    assert re.match(TYPE_PATTERNS["phone"], phone or ""), phone
    assert phone == profile_value(Generated(generate="phone"), who)
    number = int(profile_value(Generated(generate="number", min=3, max=7), who) or "")
    assert 3 <= number <= 7
    assert profile_value(Generated(generate="number", min=4), who) == "4"
    assert profile_value(Generated(generate="text"), who) == GENERATED_TEXT


def test_phones_differ_between_citizens() -> None:
    assert len({profile_value(Generated(generate="phone"), w) for w in PEOPLE}) == len(PEOPLE)


def test_an_option_is_left_to_the_page() -> None:
    assert profile_value(Generated(generate="option", index=1), PEOPLE[0]) is None
