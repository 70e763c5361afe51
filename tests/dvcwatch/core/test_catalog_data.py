"""The shipped catalog says what domain.md says about the 25 services of Project 06.

The expected table is copied from ../shared/domain.md (with its correction: permanent and temporary
residence registration are only partly online), so a drift between the brief and the data fails here.
"""

from __future__ import annotations

import re

import pytest

from dvcwatch.core.catalog import DEFAULT_PATH, Catalog, load_catalog
from dvcwatch.core.catalog.models import TYPE_PATTERNS

# id -> (agency, level, fee kind, fee amount or None when the amount depends on the case)
DOMAIN_TABLE: dict[str, tuple[str, str, str, int | None]] = {
    "xac-nhan-so-cmnd": ("mps", "full", "none", 0),
    "cap-doi-cccd": ("mps", "partial", "fixed", 50_000),
    "dang-ky-thuong-tru": ("mps", "partial", "fixed", 10_000),
    "dang-ky-tam-tru": ("mps", "partial", "fixed", 7_000),
    "khai-bao-tam-vang": ("mps", "full", "none", 0),
    "thong-bao-luu-tru": ("mps", "full", "none", 0),
    "dang-ky-xe": ("mps", "partial", "fixed", 150_000),
    "nop-phat-giao-thong": ("mps", "full", "variable", None),
    "dang-ky-khai-sinh": ("justice", "full", "none", 0),
    "dang-ky-khai-tu": ("justice", "full", "none", 0),
    "dang-ky-ket-hon": ("justice", "full", "none", 0),
    "cap-ho-chieu": ("mps", "full", "fixed", 200_000),
    "khac-dau-moi": ("mps", "partial", "fixed", 50_000),
    "khac-dau-bo-sung": ("mps", "partial", "fixed", 50_000),
    "lien-thong-khai-sinh": ("justice", "full", "none", 0),
    "lien-thong-khai-tu": ("justice", "full", "none", 0),
    "gia-han-the-bhyt": ("social-insurance", "full", "variable", None),
    "dang-ky-thue-ca-nhan": ("finance", "full", "none", 0),
    "bien-dong-dat-dai": ("natural-resources", "full", "fixed", 30_000),
    "cap-doi-gplx": ("transport", "full", "fixed", 135_000),
    "dang-ky-thi-thpt": ("education", "full", "per_choice", 20_000),
    "cap-phieu-ly-lich-tu-phap": ("justice", "full", "fixed", 200_000),
    "tro-cap-that-nghiep": ("labour", "partial", "none", 0),
    "cap-dien-moi": ("industry-trade", "full", "none", 0),
    "doi-chu-the-hop-dong-dien": ("industry-trade", "full", "none", 0),
}

# Procedure codes domain.md found on the real portals; services it could not confirm have none.
KNOWN_CODES: dict[str, set[str]] = {
    "xac-nhan-so-cmnd": {"2.001178", "1.000466"},
    "cap-doi-cccd": {"2.001195", "2.001194"},
    "dang-ky-thuong-tru": {"1.004222"},
    "dang-ky-tam-tru": {"1.004194"},
    "khai-bao-tam-vang": {"1.003677"},
    "thong-bao-luu-tru": {"2.001159"},
    "dang-ky-xe": {"1.010910", "1.000377", "1.012575"},
    "nop-phat-giao-thong": {"C08_XPHCDB"},
    "dang-ky-khai-sinh": {"1.001193"},
    "dang-ky-khai-tu": {"1.000656"},
    "dang-ky-ket-hon": {"1.000894"},
    "cap-ho-chieu": {"1.001456", "1.001471"},
    "cap-phieu-ly-lich-tu-phap": {"3.000333"},
    "lien-thong-khai-sinh": {"2.000987"},
}
# Services the seed articles name among the 25 (domain.md's `source` column says **seed**).
SEED_SERVICES = {
    "dang-ky-thuong-tru",
    "khai-bao-tam-vang",
    "thong-bao-luu-tru",
    "dang-ky-khai-sinh",
    "dang-ky-khai-tu",
    "dang-ky-ket-hon",
    "bien-dong-dat-dai",
    "dang-ky-thi-thpt",
    "cap-dien-moi",
    "doi-chu-the-hop-dong-dien",
}
MEDIUM_CONFIDENCE = {"khac-dau-bo-sung", "gia-han-the-bhyt", "dang-ky-thue-ca-nhan"}
UNCONFIRMED_CODES = (
    "khac-dau-moi",
    "khac-dau-bo-sung",
    "dang-ky-thue-ca-nhan",
    "cap-doi-gplx",
    "dang-ky-thi-thpt",
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(DEFAULT_PATH)


def test_the_25_services_of_domain_md_are_all_there_once(catalog: Catalog) -> None:
    ids = [s.id for s in catalog.services]
    assert len(ids) == 25
    assert len(set(ids)) == 25
    assert set(ids) == set(DOMAIN_TABLE)


@pytest.mark.parametrize("service_id", sorted(DOMAIN_TABLE))
def test_agency_level_and_fee_follow_domain_md(catalog: Catalog, service_id: str) -> None:
    agency, level, kind, amount = DOMAIN_TABLE[service_id]
    s = catalog.service(service_id)
    assert (s.agency, s.level, s.fee.kind) == (agency, level, kind)
    if amount is None:
        assert s.fee.amount > 0, "a case-dependent fee still needs an example amount for the sandbox"
    else:
        assert s.fee.amount == amount
    assert s.charges_fee == (s.fee.amount > 0)


def test_residence_registration_is_partial_as_domain_md_corrects(catalog: Catalog) -> None:
    assert catalog.service("dang-ky-thuong-tru").level == "partial"
    assert catalog.service("dang-ky-tam-tru").level == "partial"
    permanent = catalog.service("dang-ky-thuong-tru")
    assert (permanent.fee.amount, permanent.processing_time.days) == (10_000, 7)
    assert permanent.processing_time.unit == "working_days"


def test_source_says_which_services_the_seed_articles_name_and_which_wording_is_uncertain(
    catalog: Catalog,
) -> None:
    assert {s.id for s in catalog.services if s.source == "seed"} == SEED_SERVICES
    assert {s.id for s in catalog.services if s.source == "press (medium)"} == MEDIUM_CONFIDENCE


def test_field_volumes_from_hanoi_2022_are_marked_as_field_figures(catalog: Catalog) -> None:
    residence_notice = catalog.service("thong-bao-luu-tru").volume
    permanent = catalog.service("dang-ky-thuong-tru").volume
    assert residence_notice.source == "field" and residence_notice.weight >= 302_000
    assert permanent.source == "field" and permanent.weight == pytest.approx(120_000)
    land = catalog.service("bien-dong-dat-dai").volume
    assert land.source == "field" and land.weight == 15
    heaviest = max(catalog.services, key=lambda s: s.volume.weight)
    assert heaviest.id == "thong-bao-luu-tru"


def test_every_other_weight_says_it_is_an_estimate(catalog: Catalog) -> None:
    field_figures = {s.id for s in catalog.services if s.volume.source == "field"}
    assert field_figures <= {"thong-bao-luu-tru", "dang-ky-thuong-tru", "bien-dong-dat-dai"}
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert "estimate" in text.split("services:", 1)[0], "the header must say what an estimate is"


@pytest.mark.parametrize("service_id", sorted(KNOWN_CODES))
def test_procedure_codes_found_on_real_portals_are_listed(catalog: Catalog, service_id: str) -> None:
    assert {c.code for c in catalog.service(service_id).codes} == KNOWN_CODES[service_id]


def test_codes_domain_md_could_not_confirm_are_left_empty(catalog: Catalog) -> None:
    for service_id in UNCONFIRMED_CODES:
        assert catalog.service(service_id).codes == [], service_id


@pytest.mark.parametrize(
    ("bundle", "agencies"),
    [
        ("lien-thong-khai-sinh", ["justice", "mps", "social-insurance"]),
        ("lien-thong-khai-tu", ["justice", "mps", "labour"]),
    ],
)
def test_bundles_track_three_sub_results_in_agency_order(
    catalog: Catalog, bundle: str, agencies: list[str]
) -> None:
    assert [r.agency for r in catalog.service(bundle).sub_results] == agencies


def test_only_the_bundles_have_sub_results(catalog: Catalog) -> None:
    with_subs = {s.id for s in catalog.services if s.sub_results}
    assert with_subs == {"lien-thong-khai-sinh", "lien-thong-khai-tu"}


def test_fully_online_services_deliver_without_a_counter_visit(catalog: Catalog) -> None:
    for s in catalog.services:
        if s.level == "full":
            assert {"electronic", "post"} & set(s.result_delivery), s.id


def test_every_agency_in_use_is_declared_and_named_in_both_languages(catalog: Catalog) -> None:
    declared = {a.id: a for a in catalog.agencies}
    for s in catalog.services:
        assert s.agency in declared, s.id
    for a in catalog.agencies:
        assert a.name_vi and a.name_en
    assert sum(len(v) for v in catalog.by_agency().values()) == 25


def test_every_service_names_documents_with_accepted_file_types(catalog: Catalog) -> None:
    for s in catalog.services:
        assert any(d.required for d in s.documents), f"{s.id}: no required document"
        for d in s.documents:
            assert d.name_vi and d.name_en and d.types, f"{s.id}/{d.id}"
            assert set(d.types) <= {"pdf", "jpg", "png"}


def test_every_field_has_both_labels_and_a_rule_or_a_value(catalog: Catalog) -> None:
    for s in catalog.services:
        for f in catalog.all_fields(s):
            assert f.label_vi and f.label_en, f"{s.id}.{f.name}"
            if f.type in TYPE_PATTERNS:
                assert f.rule() is not None
            if f.type == "select":
                assert f.options, f"{s.id}.{f.name}"


def test_applicant_page_is_prefilled_from_the_citizen(catalog: Catalog) -> None:
    names = {f.name: f for f in catalog.applicant.fields}
    assert names["so_cccd"].type == "cccd" and names["so_cccd"].source == "citizen.cccd"
    assert all(f.source and f.source.startswith("citizen.") for f in catalog.applicant.fields)


def test_field_patterns_compile_and_examples_match_them(catalog: Catalog) -> None:
    for s in catalog.services:
        for f in s.fields:
            rule = f.rule()
            if rule and f.example is not None:
                assert re.match(rule, f.example), f"{s.id}.{f.name}: {f.example!r} !~ {rule}"
            if f.type == "number" and f.example is not None:
                low = f.min if f.min is not None else -(10**12)
                high = f.max if f.max is not None else 10**12
                assert low <= int(f.example) <= high, f"{s.id}.{f.name}"


def test_latency_budget_is_decision_1565s_five_minutes_unless_a_service_says_otherwise(
    catalog: Catalog,
) -> None:
    assert all(0 < s.latency_budget_seconds <= 300 for s in catalog.services)


def test_dvcwatch_catalog_env_points_at_a_districts_own_copy(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    own = tmp_path / "quan-hoang-mai.yaml"
    own.write_text(
        DEFAULT_PATH.read_text(encoding="utf-8").replace(
            'name_en: "Birth registration"', 'name_en: "Birth registration (Hoàng Mai)"'
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("DVCWATCH_CATALOG", str(own))
    assert load_catalog().service("dang-ky-khai-sinh").name_en == "Birth registration (Hoàng Mai)"
    assert load_catalog(DEFAULT_PATH).service("dang-ky-khai-sinh").name_en == "Birth registration"
