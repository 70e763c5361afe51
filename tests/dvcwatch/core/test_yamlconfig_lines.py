"""Any config dvcwatch reads points its errors at the right line, however deep the mistake sits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dvcwatch.core.errors import ConfigError, LocatedValueError
from dvcwatch.core.yamlconfig import describe_location, load_model, load_model_text, parse_yaml


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: float = 0
    end: float = Field(gt=0)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    kind: Literal["latency", "error"]
    window: Window | None = None
    targets: list[str] = []


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique(self) -> Rules:
        seen: set[str] = set()
        for i, r in enumerate(self.rules):
            if r.name in seen:
                raise LocatedValueError(f"duplicate rule name {r.name!r}", ("rules", i, "name"))
            seen.add(r.name)
        return self


DOC = """\
# comment lines count too
rules:
  - name: first
    kind: latency
    window:
      start: 0
      end: 30
  - name: second
    kind: error
    targets:
      - /api/v1/health
      - /dang-nhap
"""


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_model_text(Rules, text, "rules.yaml")
    return info.value


def test_a_valid_document_loads() -> None:
    rules = load_model_text(Rules, DOC, "rules.yaml")
    assert [r.name for r in rules.rules] == ["first", "second"]


def test_parse_yaml_maps_each_key_and_item_to_its_line() -> None:
    _data, lines = parse_yaml(DOC, "rules.yaml")
    assert lines[("rules",)] == 2
    assert lines[("rules", 0)] == 3
    assert lines[("rules", 0, "window", "end")] == 7
    assert lines[("rules", 1, "kind")] == 9
    assert lines[("rules", 1, "targets", 1)] == 12


def test_a_wrong_value_three_levels_deep_points_at_its_own_line() -> None:
    err = _error(DOC.replace("end: 30", "end: -5"))
    assert (err.line, err.field) == (7, "rules[0](first).window.end")
    assert "greater than 0, got -5" in str(err)


def test_a_wrong_literal_names_the_choices() -> None:
    err = _error(DOC.replace("kind: error", "kind: eror"))
    assert (err.line, err.field) == (9, "rules[1](second).kind")
    assert "'latency' or 'error'" in str(err)


def test_a_wrong_list_item_points_at_the_item() -> None:
    err = _error(DOC.replace("- /dang-nhap", "- {path: /dang-nhap}"))
    assert (err.line, err.field) == (12, "rules[1](second).targets[1]")


def test_a_missing_field_points_at_the_mapping_that_lacks_it() -> None:
    err = _error(DOC.replace("    kind: error\n", ""))
    assert (err.line, err.field) == (8, "rules[1](second).kind")
    assert "required field is missing" in str(err)


def test_a_misspelt_key_points_at_the_typo_and_suggests_the_right_name() -> None:
    err = _error(DOC.replace("    kind: error\n", "    knid: error\n"))
    assert (err.line, err.field) == (9, "rules[1](second).knid")
    assert "did you mean kind?" in str(err)


def test_an_unknown_key_with_nothing_close_says_to_check_the_spelling() -> None:
    err = _error(DOC.replace("      end: 30\n", "      end: 30\n      colour: red\n"))
    assert (err.line, err.field) == (8, "rules[0](first).window.colour")
    assert str(err).endswith("unknown field (check the spelling)")


def test_a_cross_item_check_points_at_the_offending_item_not_the_top() -> None:
    err = _error(DOC.replace("name: second", "name: first"))
    assert (err.line, err.field) == (8, "rules[1](first).name")
    assert "duplicate rule name 'first'" in str(err)


def test_several_problems_are_counted_after_the_first() -> None:
    err = _error(DOC.replace("kind: latency", "kind: x").replace("kind: error", "kind: y"))
    assert err.line == 4
    assert str(err).endswith("(and 1 more problem)")


def test_flow_style_mappings_keep_their_line() -> None:
    text = "rules:\n  - {name: a, kind: latency}\n  - {name: b, kind: boom}\n"
    err = _error(text)
    assert (err.line, err.field) == (3, "rules[1](b).kind")


def test_anchors_and_merge_keys_a_district_uses_to_share_entries_keep_lines() -> None:
    text = (
        "rules:\n"
        "  - &base {name: a, kind: latency, window: {end: 5}}\n"
        "  - {<<: *base, name: b}\n"
        "  - {<<: *base, name: c, kind: slow}\n"
    )
    err = _error(text)
    assert (err.line, err.field) == (4, "rules[2](c).kind")
    ok = load_model_text(Rules, text.replace("kind: slow", "kind: error"), "rules.yaml")
    assert [(r.name, r.kind, r.window.end) for r in ok.rules] == [
        ("a", "latency", 5),
        ("b", "latency", 5),
        ("c", "error", 5),
    ]


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("rules:\n  - name: a\n    kind: [latency\n", 4, "flow sequence started at line 3"),
        ("rules:\n  - name: 'a\n", 3, "quoted scalar started at line 2"),
        ("rules:\n\t- name: a\n", 2, "cannot start any token"),
        ("rules:\n  - name: a\n   kind: latency\n", 3, "malformed YAML"),
    ],
)
def test_malformed_yaml_names_the_line(text: str, line: int, says: str) -> None:
    err = _error(text)
    assert err.line == line
    assert str(err).startswith(f"rules.yaml:{line}: malformed YAML")
    assert says in str(err)


def test_load_model_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(DOC.replace("end: 30", "end: 0"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_model(Rules, path)
    assert str(info.value).startswith(f"{path}:7: rules[0](first).window.end: ")


def test_a_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="file not found") as info:
        load_model(Rules, path)
    assert info.value.path == str(path)


def test_describe_location_labels_list_items_by_id_or_name() -> None:
    data = {"services": [{"id": "dang-ky-khai-sinh", "fields": [{"name": "ho_ten"}]}, 7]}
    assert describe_location(data, ("services", 0, "fields", 0, "label")) == (
        "services[0](dang-ky-khai-sinh).fields[0](ho_ten).label"
    )
    assert describe_location(data, ("services", 1)) == "services[1]"
    assert describe_location(data, ()) == "(top level)"


def test_config_error_formats_where_then_what() -> None:
    assert str(ConfigError("bad", path="a.yaml", line=3, field="x.y")) == "a.yaml:3: x.y: bad"
    assert str(ConfigError("bad", path="a.yaml")) == "a.yaml: bad"
    assert str(ConfigError("bad", field="x")) == "x: bad"
    assert str(ConfigError("bad")) == "bad"
    assert ConfigError("bad").exit_code == 2
