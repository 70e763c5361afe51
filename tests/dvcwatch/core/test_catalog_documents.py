"""Documents the real procedures ask for, each added one with the text it comes from."""

from __future__ import annotations

import re

from dvcwatch.core.catalog import load_catalog

CATALOG = load_catalog()


def test_the_birth_bundle_asks_for_the_health_insurance_enrolment_form_with_its_source() -> None:
    docs = {d.id: d for d in CATALOG.service("lien-thong-khai-sinh").documents}
    tk1 = docs["to-khai-tk1-ts"]
    assert tk1.name_vi == "Tờ khai tham gia BHYT (Mẫu TK1-TS)" and tk1.required
    assert "595/QĐ-BHXH" in (tk1.source or "") and "505/QĐ-BHXH" in (tk1.source or "")


def test_a_new_power_supply_asks_for_proof_of_the_right_to_use_the_premises_with_its_source() -> None:
    docs = {d.id: d for d in CATALOG.service("cap-dien-moi").documents}
    assert docs["giay-to-nha"].required and "25/2016/TT-BCT" in (docs["giay-to-nha"].source or "")


def test_every_document_source_names_a_legal_text() -> None:
    sourced = [d for s in CATALOG.services for d in s.documents if d.source is not None]
    assert sourced
    for d in sourced:
        assert re.search(r"\d+/(\d{4}/)?(QĐ|TT)-[A-Z]+", d.source or ""), (d.id, d.source)
