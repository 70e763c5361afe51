"""One vocabulary of steps (domain.md) that every instrument labels its metrics and reports with."""

from __future__ import annotations

from typing import get_args

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.steps import STEP_LABELS, STEPS, Step, steps_for

DOMAIN_STEPS = ["login", "otp", "find_service", "form", "upload", "payment", "submit", "tracking", "result"]


def test_the_steps_are_domain_mds_in_the_citizens_order() -> None:
    assert list(STEPS) == DOMAIN_STEPS
    assert list(get_args(Step)) == DOMAIN_STEPS


def test_every_step_has_a_vietnamese_and_an_english_label() -> None:
    assert set(STEP_LABELS) == set(STEPS)
    assert all(vi and en and vi != en for vi, en in STEP_LABELS.values())


def test_a_free_service_has_no_payment_step_and_keeps_the_rest_in_order() -> None:
    assert steps_for(True) == DOMAIN_STEPS
    assert steps_for(False) == [s for s in DOMAIN_STEPS if s != "payment"]


def test_each_catalog_service_gets_its_steps_from_whether_it_charges() -> None:
    for s in load_catalog().services:
        assert ("payment" in steps_for(s.charges_fee)) == (s.fee.amount > 0), s.id
