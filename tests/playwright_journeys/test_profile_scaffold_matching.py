"""`profile scaffold` without a browser: label matching (case, diacritics, spacing, a trailing star or
colon), what a section says for matched and unmatched controls, options and slots, and that the
written file loads, passes `check_forms` when everything matched and otherwise fails naming every
entry left to decide."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import SANDBOX_PROFILE, load_profile
from playwright_journeys.scaffold.advance import files_or_pays
from playwright_journeys.scaffold.draft import Reading, draft_section
from playwright_journeys.scaffold.labels import match_one, normalize, same, suggest
from playwright_journeys.scaffold.reader import Control, FormPage, Slot
from playwright_journeys.scaffold.writer import render_forms, replace_forms

CATALOG = load_catalog()
PROFILE = load_profile()  # the sandbox's: forms: {}


@pytest.mark.parametrize(
    ("portal", "catalog"),
    [
        ("ho va ten", "Họ và tên"),
        ("HỌ VÀ TÊN:", "Họ và tên"),
        ("  Họ   và tên *", "Họ và tên"),
        ("Dia chi email", "Địa chỉ email"),
        ("ĐỊA CHỈ EMAIL", "địa chỉ email"),
        ("Ho\u0323 va\u0300 te\u0302n", "Họ và tên"),  # decomposed input, as some pages send it
    ],
)
def test_the_same_words_match_whatever_case_diacritics_and_spacing(portal: str, catalog: str) -> None:
    assert same(portal, catalog)
    assert normalize(portal) == normalize(catalog)


@pytest.mark.parametrize(
    ("portal", "catalog"),
    [
        ("Ngày sinh của trẻ", "Ngày sinh"),  # a longer label is another field
        ("Số điện thoại liên hệ", "Số điện thoại"),
        ("Bị mất", "Mất thẻ"),
        ("Lý do cấp", "Lý do cấp lại"),
    ],
)
def test_other_words_do_not_match(portal: str, catalog: str) -> None:
    assert not same(portal, catalog)


def test_an_ambiguous_label_is_no_match_and_a_close_one_only_a_suggestion() -> None:
    assert match_one("Ngay sinh", {"ngay_sinh": ["Ngày sinh"], "x": ["Ngày sinh của trẻ"]}) == "ngay_sinh"
    assert match_one("Ngày sinh", {"a": ["Ngày sinh"], "b": ["ngay sinh"]}) is None
    assert suggest("Số điện thoại liên hệ", {"so_dien_thoai": "Số điện thoại", "ho_ten": "Họ và tên"}) == (
        "so_dien_thoai"
    )
    assert suggest("Số nhân khẩu trong hộ", {"dia_chi_moi": "Địa chỉ đăng ký thường trú"}) is None


@pytest.mark.parametrize(
    ("words", "files"),
    [
        ("Lưu và tiếp tục", False),
        ("Tiếp tục", False),
        ("Đính kèm và tiếp tục", False),
        ("Gửi hồ sơ", True),
        ("Nộp hồ sơ", True),
        ("Thanh toán trực tuyến", True),
        ("Submit", True),
    ],
)
def test_the_scaffold_never_presses_a_button_that_files_or_pays(words: str, files: bool) -> None:
    assert files_or_pays(words) is files


def _c(label: str, kind: str = "text", required: bool = True, options: tuple[str, ...] = ()) -> Control:
    return Control(kind, label, label.replace(" ", "")[:12], required, options)


def _reading(service_id: str, controls: list[Control], slots: list[Slot], all_pages: bool = True) -> Reading:
    return Reading(
        CATALOG.service(service_id),
        [FormPage("http://127.0.0.1:9/f", controls, []), FormPage("http://127.0.0.1:9/d", [], slots)],
        all_pages=all_pages,
    )


APPLICANT = [
    _c("Họ và tên"),
    _c("Số định danh cá nhân (CCCD)"),
    _c("Ngày sinh", "date"),
    _c("Giới tính", "select", options=("Nam", "Nữ")),
    _c("Số điện thoại", "tel"),
    _c("Thư điện tử", "email", required=False),
    _c("Nơi thường trú"),
]


def test_a_form_as_the_catalog_has_it_needs_no_entry_and_nothing_to_decide() -> None:
    s = CATALOG.service("cap-doi-cccd")
    controls = [
        *APPLICANT,
        _c("LÝ DO CẤP", "select", options=("mất thẻ", "Hư hỏng", "Thay đổi thông tin", "Đủ tuổi đổi thẻ")),
        _c("Nơi nhận thẻ", "select", options=tuple(s.fields[1].options or ())),
    ]
    slots = [Slot(d.name_vi, d.required) for d in s.documents]
    d = draft_section(CATALOG, PROFILE, _reading(s.id, controls, slots))
    assert d.undecided == []
    # the label differs from the catalog's only in case: the portal's own words are written (the
    # `field` selector matches a label exactly), and so is the option's wording
    assert d.section.fields["ly_do_cap"].label == "LÝ DO CẤP"
    assert d.section.fields["ly_do_cap"].options == {"Mất thẻ": "mất thẻ"}
    assert set(d.section.fields) == {"ly_do_cap"} and d.section.documents == {}
    assert d.matched["ho_ten"] == "Họ và tên" and len(d.matched) == 9


def test_what_does_not_match_is_left_to_decide_by_name() -> None:
    s = CATALOG.service("cap-doi-cccd")
    controls = [
        *APPLICANT[1:],  # no «Họ và tên»: the portal shows it from the account
        _c("Trường hợp cấp", "select", options=("Bị mất", "Bị hỏng")),
        _c("Nơi nhận thẻ", "select", options=("Công an phường, xã, thị trấn", "Công an cấp huyện")),
        _c("Ngày dự kiến đến làm thủ tục", "date"),
    ]
    slots = [Slot("Tờ khai CC01", True), Slot("Ảnh chụp thẻ cũ (nếu còn)", False)]
    d = draft_section(CATALOG, PROFILE, _reading(s.id, controls, slots))
    assert set(d.undecided) == {
        "field ho_ten",
        "field ly_do_cap",
        "control «Trường hợp cấp»",
        "control «Ngày dự kiến đến làm thủ tục»",
        "options of noi_nhan",
        "slot «Tờ khai CC01»",
        "document to-khai-cc",
    }
    assert "«Công an cấp xã»" in d.section.decide["options of noi_nhan"]
    assert "{generate: date}" in d.section.decide["control «Ngày dự kiến đến làm thủ tục»"]
    assert d.section.documents == {}  # the optional slot matched by its catalog name


def test_a_label_asking_another_question_is_no_match() -> None:
    """«Giới tính» is the applicant's sex in the catalog; with «Bé trai», «Bé gái» it is the child's."""
    controls = [*APPLICANT[:3], *APPLICANT[4:], _c("Giới tính", "select", options=("Bé trai", "Bé gái"))]
    d = draft_section(CATALOG, PROFILE, _reading("dang-ky-khai-sinh", controls, []))
    assert "gioi_tinh" not in d.matched and "field gioi_tinh" in d.undecided
    assert "the label of catalog field gioi_tinh" in d.section.decide["control «Giới tính»"]


def test_documents_not_read_are_left_to_decide() -> None:
    r = Reading(CATALOG.service("dang-ky-xe"), [FormPage("u", [_c("Số máy")], [])], stopped="production")
    d = draft_section(CATALOG, PROFILE, r)
    assert "documents" in d.undecided and "production" in d.section.decide["documents"]
    assert "field so_khung" in d.undecided and "not on the page(s) read" in d.section.decide["field so_khung"]


def test_what_the_partial_profile_knows_matches_too(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text(
        SANDBOX_PROFILE.read_text(encoding="utf-8").replace(
            "forms: {}",
            'forms:\n  default:\n    fields: {ho_ten: null, so_dien_thoai: "Số điện thoại liên hệ"}\n'
            "  cap-doi-cccd:\n    fields:\n      ly_do_cap: {label: Trường hợp cấp, options: {Mất thẻ: Bị mất}}\n"
            "    extra:\n      ngayDuKien: {label: Ngày dự kiến, value: {generate: date, offset_days: 14}}\n",
        ),
        encoding="utf-8",
    )
    prof = load_profile(path)
    controls = [
        _c("so dien thoai lien he", "tel"),
        _c(
            "Trường hợp cấp", "select", options=("Bị mất", "Hư hỏng", "Thay đổi thông tin", "Đủ tuổi đổi thẻ")
        ),
        _c("Ngày dự kiến", "date"),
    ]
    d = draft_section(CATALOG, prof, _reading("cap-doi-cccd", controls, []))
    assert d.section.fields["ho_ten"].absent
    assert d.section.fields["so_dien_thoai"].label == "so dien thoai lien he"
    assert d.section.fields["ly_do_cap"].options == {"Mất thẻ": "Bị mất"}
    assert set(d.section.extra) == {"ngayDuKien"}
    assert "control «Ngày dự kiến»" not in d.undecided and "options of ly_do_cap" not in d.undecided


def _write(tmp_path: Path, drafts: list) -> Path:  # type: ignore[type-arg]
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    out = tmp_path / "out.yaml"
    out.write_text(replace_forms(text, render_forms(drafts, {}, False, ["test"])), encoding="utf-8")
    return out


def test_the_written_file_loads_and_passes_when_everything_matched(tmp_path: Path) -> None:
    s = CATALOG.service("cap-doi-cccd")
    reasons = ("mất thẻ", "Hư hỏng", "Thay đổi thông tin", "Đủ tuổi đổi thẻ")
    controls = [*APPLICANT, _c("LÝ DO CẤP", "select", options=reasons), _c("Nơi nhận thẻ")]
    d = draft_section(
        CATALOG, PROFILE, _reading(s.id, controls, [Slot(x.name_vi, True) for x in s.documents])
    )
    prof = load_profile(_write(tmp_path, [d]))
    prof.check_forms(CATALOG)
    assert prof.field_label(s.id, s.fields[0]) == "LÝ DO CẤP"
    assert prof.form_for(s.id).fields["ly_do_cap"].options == {"Mất thẻ": "mất thẻ"}
    assert "# ho_ten ← «Họ và tên» text, required" in (tmp_path / "out.yaml").read_text(encoding="utf-8")


def test_check_forms_names_every_entry_left_to_decide(tmp_path: Path) -> None:
    a = draft_section(CATALOG, PROFILE, _reading("cap-doi-cccd", [_c("Trường hợp [bold]cấp[/]")], []))
    b = draft_section(CATALOG, PROFILE, _reading("dang-ky-xe", APPLICANT, []))
    path = _write(tmp_path, [a, b])
    prof = load_profile(path)
    with pytest.raises(ConfigError) as exc:
        prof.check_forms(CATALOG)
    message = str(exc.value)
    for d in (a, b):
        for what in d.undecided:
            assert f"{d.service_id}: {what}" in message
    assert f"{len(a.undecided) + len(b.undecided)} entries" in message
    assert str(path) in message


def test_entries_every_service_shares_go_under_default_when_every_service_is_there() -> None:
    from playwright_journeys.scaffold.writer import factor_default

    drafts = {
        s.id: draft_section(CATALOG, PROFILE, _reading(s.id, APPLICANT[1:], [])).section
        for s in CATALOG.services
    }
    factored = factor_default(drafts, every_service=True)
    assert "field ho_ten" in factored["default"].decide
    assert all("field ho_ten" not in f.decide for sid, f in factored.items() if sid != "default")
    assert factor_default(drafts, every_service=False) is drafts


def test_the_console_shows_portal_text_as_text_never_as_markup(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from dvcwatch.commands.profile_scaffold import _write

    buf = io.StringIO()
    console = Console(file=buf, width=400, highlight=False, soft_wrap=True)
    s = CATALOG.service("cap-doi-cccd")
    reading = _reading(s.id, [_c("Trường hợp [bold]cấp[/]"), _c("[link=http://x.invalid]Nơi[/link]")], [])
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    out = tmp_path / "out.yaml"
    assert _write(console, PROFILE, CATALOG, text, [reading], [s], SANDBOX_PROFILE, out) == 1
    shown = buf.getvalue()
    assert "control «Trường hợp [bold]cấp[/]»" in shown and "[link=http://x.invalid]Nơi[/link]" in shown
    assert "control «Trường hợp [bold]cấp[/]»" in load_profile(out).forms["cap-doi-cccd"].decide


@pytest.mark.parametrize(
    "portal", ["Họ và tên (*)", "Họ và tên: (*)", "* Họ và tên", "Họ và tên (*):", "HỌ VÀ TÊN ( * )"]
)
def test_required_marks_are_not_words(portal: str) -> None:
    assert same(portal, "Họ và tên") and normalize(portal) == "ho va ten"


def test_what_the_profile_covers_is_no_decision() -> None:
    """The declaration box (`selectors.declaration`) and a place select (`journey.places`) are handled
    by the journeys already: a note, never an entry to decide."""
    from dvcwatch.core.profile import Place

    tick = Control("checkbox", "Tôi xin cam đoan", "camDoan", True, covered="declaration")
    province = _c("Tỉnh/Thành phố", "select", options=("Thành phố Hà Nội",))
    places = PROFILE.journey.model_copy(update={"places": [Place(label="Tỉnh/Thành phố", option="Hà Nội")]})
    prof = PROFILE.model_copy(update={"journey": places})
    d = draft_section(CATALOG, prof, _reading("dang-ky-xe", [*APPLICANT, tick, province], []))
    assert not [k for k in d.undecided if "cam đoan" in k or "Tỉnh" in k], d.undecided
    assert any("covered by selectors.declaration" in n for n in d.notes)
    assert any("covered by journey.places" in n for n in d.notes)
    # without places the province select is to decide, and journey.places is offered
    d = draft_section(CATALOG, PROFILE, _reading("dang-ky-xe", [*APPLICANT, province], []))
    assert "journey.places" in d.section.decide["control «Tỉnh/Thành phố»"]


def test_a_catalog_select_asked_as_a_text_box_is_typed_and_the_mapping_proposed() -> None:
    s = CATALOG.service("cap-doi-cccd")
    controls = [
        *APPLICANT,
        _c("Lý do cấp", "text"),
        _c("Nơi nhận thẻ", "select", options=("Công an cấp xã",)),
    ]
    d = draft_section(CATALOG, PROFILE, _reading(s.id, controls, []))
    assert "ly_do_cap" in d.matched and not [k for k in d.undecided if "ly_do_cap" in k]
    note = next(n for n in d.notes if n.startswith("ly_do_cap is a select"))
    assert (
        "«Mất thẻ», «Hư hỏng»" in note
        and 'fields.ly_do_cap.options (e.g. {options: {"Mất thẻ": "…"}})' in note
    )


def _paired_reading(extra: Slot) -> Reading:
    s = CATALOG.service("dang-ky-khai-sinh")
    child = [
        _c("Họ và tên trẻ"),
        _c("Ngày sinh của trẻ", "date"),
        _c("Giới tính của trẻ", "select", options=("Nam", "Nữ")),
        _c("Nơi sinh"),
    ]
    return _reading(s.id, [*APPLICANT, *child], [Slot(d.name_vi, d.required) for d in s.documents] + [extra])


def test_a_required_portal_only_document_once_every_catalog_document_is_paired(tmp_path: Path) -> None:
    """«Tờ khai tham gia BHYT» is no catalog document and each catalog document has its slot: only the
    portal asks it. Where the profile model has `extra_documents`, it is written there (as a person
    would decide), else a person is offered both choices."""
    from dvcwatch.core.profile import ServiceForm

    slot = Slot("Tờ khai tham gia BHYT (Mẫu TK1-TS)", True, ".pdf,.jpg")
    d = draft_section(CATALOG, PROFILE, _paired_reading(slot))
    ident = "to-khai-tham-gia-bhyt-mau-tk1-ts"
    if "extra_documents" in ServiceForm.model_fields:
        assert d.undecided == []
        assert d.section.extra_documents[ident].name == slot.label  # type: ignore[attr-defined]
        assert any(n.startswith(f"extra document {ident} ← slot") for n in d.notes)
        written = load_profile(_write(tmp_path, [d]))
        written.check_forms(CATALOG)  # the output passes as written: nothing left to decide
        extra = written.form_for(d.service_id).extra_documents[ident]  # type: ignore[attr-defined]
        assert (extra.name, extra.file_type, extra.required) == (slot.label, "pdf", True)
        assert (
            f"# extra document {ident} ← slot «{slot.label}» (required)"
            in (tmp_path / "out.yaml").read_text()
        )
    else:
        why = d.section.decide[f"slot «{slot.label}»"]
        assert "give it under documents" in why
        assert f'extra_documents ({ident}: {{name: "{slot.label}", file_type: "pdf"}})' in why


def test_an_optional_portal_only_document_is_left_unattached_and_an_unpaired_one_is_asked() -> None:
    d = draft_section(CATALOG, PROFILE, _paired_reading(Slot("Giấy tờ khác (nếu có)", False)))
    assert d.undecided == [] and any("left unattached" in n for n in d.notes)
    s = CATALOG.service("dang-ky-khai-sinh")
    r = _reading(s.id, [], [Slot("Giấy chứng sinh", True), Slot("Giấy chứng nhận kết hôn", True)])
    d = draft_section(CATALOG, PROFILE, r)
    why = d.section.decide["slot «Giấy chứng nhận kết hôn»"]
    assert "closest: giay-ket-hon-cha-me" in why and "extra_documents (giay-chung-nhan-ket-hon:" in why


def test_the_console_counts_the_decisions_the_file_holds(tmp_path: Path) -> None:
    """Entries every service shares are written once, under default: the console said 25 where the
    file (and `profile check`) had 1."""
    import io

    from rich.console import Console

    from dvcwatch.commands.profile_scaffold import _write

    buf = io.StringIO()
    console = Console(file=buf, width=400, highlight=False, soft_wrap=True)
    readings = [_reading(s.id, APPLICANT[1:], []) for s in CATALOG.services]
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    out = tmp_path / "out.yaml"
    assert _write(console, PROFILE, CATALOG, text, readings, CATALOG.services, SANDBOX_PROFILE, out) == 1
    in_file = sum(len(f.decide) for f in load_profile(out).forms.values())
    shown = " ".join(buf.getvalue().split())
    assert f"left for a person to decide ({in_file})" in shown and f"{in_file} entries to decide" in shown
    assert shown.count("default: field ho_ten") == 1 and "cap-doi-cccd: field ho_ten" not in shown


def test_what_a_section_repeats_from_default_is_written_once() -> None:
    """A partial profile's `default:` (the agencies' words, say) is part of every section the
    scaffold reads; written back into each, it said the same thing 26 times."""
    from dvcwatch.core.profile import ServiceForm
    from playwright_journeys.scaffold.writer import factor_default

    words = {"mps": "Bộ Công an"}
    base = ServiceForm(agencies=words)
    mine = ServiceForm(agencies={**words, "justice": "Sở Tư pháp"}, documents={"to-khai-cc": "Tờ khai"})
    out = factor_default({"default": base, "cap-doi-cccd": mine}, every_service=False)
    assert out["cap-doi-cccd"].agencies == {"justice": "Sở Tư pháp"}
    assert out["cap-doi-cccd"].over(out["default"]) == mine.over(base)
    every = factor_default({s.id: ServiceForm(agencies=words) for s in CATALOG.services}, every_service=True)
    assert every["default"].agencies == words and not any(
        f.agencies for k, f in every.items() if k != "default"
    )


@pytest.mark.parametrize(
    ("name", "taken", "ident"),
    [
        ("Tờ khai tham gia BHYT (Mẫu TK1-TS)", set(), "to-khai-tham-gia-bhyt-mau-tk1-ts"),
        ("Giấy đề nghị mua điện (Mẫu 01/ĐNMĐ)", set(), "giay-de-nghi-mua-dien-mau-01-dnmd"),
        (
            "Giấy tờ chứng minh nơi cư trú cuối cùng của người đã mất",
            set(),
            "giay-to-chung-minh-noi-cu-tru-cuoi-cung-cua",
        ),
        ("Sổ bảo hiểm xã hội", {"so-bao-hiem-xa-hoi"}, "so-bao-hiem-xa-hoi-2"),
    ],
)
def test_a_portal_only_document_id_is_a_slug_of_whole_words(name: str, taken: set[str], ident: str) -> None:
    from dvcwatch.core.profile import SLUG
    from playwright_journeys.scaffold.draft import slug

    assert slug(name, taken) == ident and SLUG.match(ident)
