"""Synthetic citizens look real to a portal's validation, are reproducible, and never collide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dvcwatch.core.catalog.models import TYPE_PATTERNS
from dvcwatch.core.identities import Citizen, cccd_number, citizen, citizens, decode_cccd

DATA = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "dvcwatch" / "core" / "identities" / "data.yaml").read_text(
        encoding="utf-8"
    )
)
SAMPLE = citizens(42, 500)


def _birth_year(c: Citizen) -> int:
    return int(c.birth_date.rsplit("/", 1)[1])


def test_reference_data_has_the_63_province_codes_of_cccd_numbers() -> None:
    provinces = DATA["provinces"]
    assert len(provinces) == 63
    assert provinces["001"] == "Hà Nội"
    assert provinces["031"] == "Hải Phòng"
    assert provinces["048"] == "Đà Nẵng"
    assert provinces["079"] == "TP Hồ Chí Minh"
    assert provinces["087"] == "Đồng Tháp"
    assert provinces["096"] == "Cà Mau"


@pytest.mark.parametrize("c", SAMPLE[:60], ids=lambda c: f"citizen{c.index}")
def test_cccd_has_the_real_structure(c: Citizen) -> None:
    assert re.fullmatch(r"\d{12}", c.cccd)
    province, digit, yy = c.cccd[:3], int(c.cccd[3]), c.cccd[4:6]
    assert province in DATA["provinces"]
    assert DATA["provinces"][province] == c.birth_province
    year = _birth_year(c)
    century = 0 if year < 2000 else 2
    assert digit == century + (0 if c.sex == "male" else 1)
    assert yy == f"{year % 100:02d}"


def test_the_sample_covers_both_sexes_both_centuries_and_several_provinces() -> None:
    digits = {c.cccd[3] for c in SAMPLE}
    assert digits == {"0", "1", "2", "3"}
    assert len({c.cccd[:3] for c in SAMPLE}) > 10
    assert {c.sex for c in SAMPLE} == {"male", "female"}


def test_most_citizens_were_born_in_hanoi_like_a_hanoi_portals_users() -> None:
    hanoi = sum(c.cccd.startswith("001") for c in SAMPLE)
    assert 0.45 * len(SAMPLE) < hanoi < 0.75 * len(SAMPLE)


def test_the_domain_example_number_is_composed_and_decoded_the_same_way() -> None:
    assert cccd_number("087", "male", 1984, 999) == "087084000999"
    assert decode_cccd("087084000999") == {
        "province_code": "087",
        "province": "Đồng Tháp",
        "sex": "male",
        "birth_year": 1984,
        "serial": "000999",
    }
    assert cccd_number("001", "female", 2003, 123456) == "001303123456"


@pytest.mark.parametrize("c", SAMPLE[:60], ids=lambda c: f"citizen{c.index}")
def test_decode_cccd_round_trips(c: Citizen) -> None:
    decoded = decode_cccd(c.cccd)
    assert decoded["province"] == c.birth_province
    assert decoded["sex"] == c.sex
    assert decoded["birth_year"] == _birth_year(c)
    assert cccd_number(
        decoded["province_code"], decoded["sex"], decoded["birth_year"], int(decoded["serial"])
    ) == (c.cccd)


@pytest.mark.parametrize("bad", ["00108400099", "0010840009991", "00108400099a", "001484000999", ""])
def test_decode_cccd_rejects_what_is_not_a_cccd(bad: str) -> None:
    with pytest.raises(ValueError):
        decode_cccd(bad)


def test_same_seed_gives_the_same_citizens() -> None:
    assert citizens(42, 50) == SAMPLE[:50]
    assert citizen(42, 17) == SAMPLE[17]
    assert citizens(42, 5, start=100) == SAMPLE[100:105]


def test_string_and_int_seeds_are_both_reproducible() -> None:
    assert citizens("phuong-vinh-hung", 3) == citizens("phuong-vinh-hung", 3)


def test_different_seeds_give_different_citizens() -> None:
    other = citizens(43, 50)
    assert sum(a.cccd == b.cccd for a, b in zip(SAMPLE[:50], other, strict=True)) == 0
    assert [c.full_name for c in other] != [c.full_name for c in SAMPLE[:50]]
    assert [c.password for c in other] != [c.password for c in SAMPLE[:50]]


def test_no_two_of_10000_citizens_share_a_cccd_number() -> None:
    numbers = [c.cccd for c in citizens(7, 10_000)]
    assert len(set(numbers)) == 10_000


def test_the_index_range_is_bounded_by_the_serial_space() -> None:
    with pytest.raises(ValueError, match="citizen index"):
        citizen(42, 1_000_000)
    with pytest.raises(ValueError, match="citizen index"):
        citizen(42, -1)


@pytest.mark.parametrize("c", SAMPLE[:60], ids=lambda c: f"citizen{c.index}")
def test_names_are_vietnamese_and_match_the_sex(c: Citizen) -> None:
    family, middle, given = c.full_name.split(" ")
    assert family in DATA["family_names"]
    assert middle in DATA["middle_names"][c.sex]
    assert given in DATA["given_names"][c.sex]
    assert c.sex_vi == {"male": "Nam", "female": "Nữ"}[c.sex]


@pytest.mark.parametrize("c", SAMPLE[:60], ids=lambda c: f"citizen{c.index}")
def test_addresses_are_real_hanoi_districts_and_their_wards(c: Citizen) -> None:
    assert c.district in DATA["hanoi"]
    assert c.ward in DATA["hanoi"][c.district]
    assert c.address.endswith(f"phường {c.ward}, quận {c.district}, Hà Nội")
    street = c.address.split(" phố ", 1)[1].split(",", 1)[0]
    assert street in DATA["streets"]


@pytest.mark.parametrize("c", SAMPLE[:60], ids=lambda c: f"citizen{c.index}")
def test_contact_details_pass_the_portals_rules_and_cannot_reach_anyone(c: Citizen) -> None:
    assert re.match(TYPE_PATTERNS["phone"], c.phone)
    assert c.phone[:3] in DATA["phone_prefixes"]
    assert re.match(TYPE_PATTERNS["email"], c.email)
    assert c.email.endswith(".invalid"), "mail must never leave the test system"
    assert re.match(TYPE_PATTERNS["date"], c.birth_date)
    assert re.match(TYPE_PATTERNS["cccd"], c.cccd)


def test_every_citizen_has_its_own_password() -> None:
    assert len({c.password for c in SAMPLE}) == len(SAMPLE)
    assert all(len(c.password) >= 8 for c in SAMPLE)


def test_the_password_never_appears_in_public_dict() -> None:
    for c in SAMPLE[:100]:
        public = c.public_dict()
        assert "password" not in public
        assert c.password not in repr(public)
        assert public["cccd"] == c.cccd and public["full_name"] == c.full_name


def test_attr_reads_catalog_sources_and_refuses_unknown_ones() -> None:
    c = SAMPLE[0]
    assert c.attr("citizen.full_name") == c.full_name
    assert c.attr("cccd") == c.cccd
    assert c.attr("citizen.index") == "0"
    with pytest.raises(KeyError, match="shoe_size"):
        c.attr("citizen.shoe_size")
