"""Synthetic citizens: test identities with the real CCCD structure that are never a real person.

A CCCD number is 3 digits of birth province, 1 digit for century and sex, 2 of birth year and 6 more.
A synthetic number can still equal a real one, so identities stay inside test systems and are
reproducible from a seed: the sandbox pre-registers `citizens(seed, n)` and the harness derives the
same list, with no shared state between them but the seed.

The 6 trailing digits come from an affine bijection over 0..999999 keyed by the seed, so citizen `i`
is addressable directly and no two citizens of one seed share a number (for i < 1,000,000).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_PATH = Path(__file__).with_name("data.yaml")
SERIAL_SPACE = 1_000_000


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Citizen:
    index: int
    cccd: str
    full_name: str
    birth_date: str  # dd/mm/yyyy, as Vietnamese forms take it
    sex: str  # "male" | "female"
    sex_vi: str  # "Nam" | "Nữ"
    birth_province: str
    phone: str
    email: str
    address: str
    ward: str
    district: str
    password: str

    def attr(self, name: str) -> str:
        """Value for a catalog field `source` such as `citizen.full_name`."""
        key = name.removeprefix("citizen.")
        if key not in self.__dataclass_fields__:
            raise KeyError(f"no citizen attribute {key!r}")
        return str(getattr(self, key))

    def public_dict(self) -> dict[str, Any]:
        """Everything but the password, for reports and logs."""
        d = asdict(self)
        d.pop("password")
        return d


def _seed_int(seed: int | str, *parts: object) -> int:
    h = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).digest()
    return int.from_bytes(h[:8], "big")


def _serial(seed: int | str, index: int) -> int:
    if not 0 <= index < SERIAL_SPACE:
        raise ValueError(f"citizen index must be in 0..{SERIAL_SPACE - 1}")
    k = _seed_int(seed, "serial")
    a = (k % (SERIAL_SPACE // 10)) * 10 + 1  # ends in 1: odd and not a multiple of 5, so coprime with 10^6
    b = (k >> 24) % SERIAL_SPACE
    return (a * index + b) % SERIAL_SPACE


def cccd_number(province_code: str, sex: str, birth_year: int, serial: int) -> str:
    """Compose a 12-digit CCCD: province (3), century+sex (1), year (2), serial (6)."""
    century = 0 if birth_year < 2000 else 2
    digit = century + (0 if sex == "male" else 1)
    return f"{province_code}{digit}{birth_year % 100:02d}{serial:06d}"


def citizen(seed: int | str, index: int) -> Citizen:
    d = _data()
    rng = random.Random(_seed_int(seed, "citizen", index))
    sex = rng.choice(("male", "female"))
    province = "001" if rng.random() < 0.6 else rng.choice(sorted(d["provinces"]))
    year = rng.randint(1950, 2006)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    family = rng.choice(d["family_names"])
    name = f"{family} {rng.choice(d['middle_names'][sex])} {rng.choice(d['given_names'][sex])}"
    district = rng.choice(sorted(d["hanoi"]))
    ward = rng.choice(d["hanoi"][district])
    street = rng.choice(d["streets"])
    address = f"Số {rng.randint(1, 199)} phố {street}, phường {ward}, quận {district}, Hà Nội"
    phone = rng.choice(d["phone_prefixes"]) + f"{rng.randint(0, 9_999_999):07d}"
    number = cccd_number(province, sex, year, _serial(seed, index))
    secret = hashlib.sha256(f"dvcwatch-password:{seed}:{index}".encode()).hexdigest()[:10]
    return Citizen(
        index=index,
        cccd=number,
        full_name=name,
        birth_date=f"{day:02d}/{month:02d}/{year}",
        sex=sex,
        sex_vi="Nam" if sex == "male" else "Nữ",
        birth_province=d["provinces"][province],
        phone=phone,
        email=f"cong.dan.{index}@thu-nghiem.invalid",
        address=address,
        ward=ward,
        district=district,
        password=f"Tk@{secret}",
    )


def citizens(seed: int | str, count: int, start: int = 0) -> list[Citizen]:
    return [citizen(seed, i) for i in range(start, start + count)]


def decode_cccd(number: str) -> dict[str, Any]:
    """Read the structure back: used by tests and by the sandbox's own validation."""
    if len(number) != 12 or not number.isdigit():
        raise ValueError("a CCCD number has 12 digits")
    province, digit, yy = number[:3], int(number[3]), int(number[4:6])
    if digit > 3:
        raise ValueError("century/sex digit must be 0-3 for people born 1900-2099")
    century = 1900 if digit < 2 else 2000
    return {
        "province_code": province,
        "province": _data()["provinces"].get(province),
        "sex": "male" if digit % 2 == 0 else "female",
        "birth_year": century + yy,
        "serial": number[6:],
    }
