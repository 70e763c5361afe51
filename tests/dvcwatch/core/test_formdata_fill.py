"""What journeys and load tests type into a form passes the same rule the portal applies."""

from __future__ import annotations

import re

import pytest

from dvcwatch.core.catalog import Catalog, FormField, load_catalog
from dvcwatch.core.formdata import field_value, fill, sample_file
from dvcwatch.core.identities import citizens

CATALOG = load_catalog()
PEOPLE = citizens(42, 3) + citizens(2026, 2)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return CATALOG


@pytest.mark.parametrize("service_id", [s.id for s in CATALOG.services])
def test_every_field_of_every_service_is_filled_with_a_value_its_rule_accepts(
    catalog: Catalog, service_id: str
) -> None:
    service = catalog.service(service_id)
    fields = catalog.all_fields(service)
    for who in PEOPLE:
        values = fill(catalog, service, who)
        assert list(values) == [f.name for f in fields], "form order: applicant page, then service page"
        for f in fields:
            value = values[f.name]
            assert value != "" or not f.required, f"{service_id}.{f.name} is required"
            rule = f.rule()
            if rule:
                assert re.match(rule, value), f"{service_id}.{f.name}={value!r} breaks {rule}"
            if f.type == "select":
                assert value in f.options, f"{service_id}.{f.name}={value!r}"
            if f.type == "number":
                if f.min is not None:
                    assert int(value) >= f.min
                if f.max is not None:
                    assert int(value) <= f.max


def test_applicant_fields_come_from_the_citizen(catalog: Catalog) -> None:
    who = PEOPLE[0]
    values = fill(catalog, catalog.service("dang-ky-khai-sinh"), who)
    assert values["so_cccd"] == who.cccd
    assert values["ho_ten"] == who.full_name
    assert values["ngay_sinh"] == who.birth_date
    assert values["gioi_tinh"] == who.sex_vi
    assert values["dia_chi"] == who.address


def test_two_citizens_fill_the_same_service_differently(catalog: Catalog) -> None:
    service = catalog.service("dang-ky-tam-tru")
    a, b = (fill(catalog, service, who) for who in PEOPLE[:2])
    assert a["so_cccd"] != b["so_cccd"]
    assert a["dia_chi_tam_tru"] == b["dia_chi_tam_tru"], "service values come from the catalog's example"


def _field(**kwargs: object) -> FormField:
    base: dict[str, object] = {"name": "x", "label_vi": "X", "label_en": "X"}
    return FormField.model_validate(base | kwargs)


def test_a_catalog_example_that_breaks_its_own_rule_is_a_catalog_bug() -> None:
    broken = _field(type="text", pattern=r"^\d{9}$", example="12345")
    with pytest.raises(ValueError, match=r"breaks its own rule"):
        field_value(broken, PEOPLE[0])


def test_fields_without_example_get_a_value_from_their_type() -> None:
    who = PEOPLE[0]
    assert field_value(_field(type="select", options=["Có", "Không"]), who) == "Có"
    assert field_value(_field(type="number", min=3), who) == "3"
    assert field_value(_field(type="number"), who) == "1"
    assert field_value(_field(type="checkbox"), who) == "on"


def test_a_field_nothing_can_fill_is_refused() -> None:
    with pytest.raises(ValueError, match="no source or example"):
        field_value(_field(type="date"), PEOPLE[0])


@pytest.mark.parametrize(
    ("kind", "content_type", "magic"),
    [
        ("pdf", "application/pdf", b"%PDF-"),
        ("jpg", "image/jpeg", b"\xff\xd8\xff"),
        ("png", "image/png", b"\x89PNG"),
    ],
)
def test_sample_files_are_real_files_of_the_accepted_type(kind: str, content_type: str, magic: bytes) -> None:
    name, ctype, data = sample_file("giay-chung-sinh", [kind, "pdf"])
    assert name == f"giay-chung-sinh.{kind}"
    assert ctype == content_type
    assert data.startswith(magic)


def test_every_document_of_the_catalog_has_a_sample_file(catalog: Catalog) -> None:
    for s in catalog.services:
        for d in s.documents:
            name, _ctype, data = sample_file(d.id, list(d.types))
            assert name.rsplit(".", 1)[1] in d.types and data
