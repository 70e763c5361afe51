"""Load YAML into pydantic models with errors that point at a file and line.

PyYAML's safe loader drops positions, so the document is composed once into nodes, positions are
indexed by their path (("services", 3, "fee")), and pydantic's error location is looked up there.
Every config file in dvcwatch (catalog, faults, profiles, load profiles, gates, SLOs, probes) goes
through `load_model` so that all of them fail the same, readable way.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from dvcwatch.core.errors import ConfigError, LocatedValueError
from dvcwatch.core.inputfile import MAX_CONFIG_BYTES, read_input_text

M = TypeVar("M", bound=BaseModel)
PathKey = tuple[Any, ...]


def _index_lines(node: yaml.Node, prefix: PathKey, out: dict[PathKey, int]) -> None:
    out[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*prefix, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*prefix, key), out)
            out[(*prefix, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*prefix, i), out)


EXPANDED_NODES_MAX = 250_000
"""How many nodes a document may hold once its aliases are expanded. The largest real configs are
probe configs, about 11 nodes a target (20 000 targets fit); the catalog has 2 500. A "billion laughs"
document, a few lines of nested aliases, has billions, and walking them would hang the command or a
live reload (the line index alone costs about a second per 200 000 nodes on a loaded machine)."""


def _expanded_size(root: yaml.Node, source: str) -> tuple[int, int]:
    """(nodes with every alias expanded, distinct nodes), counted on the node graph (each shared node
    once), so the count itself costs time in the size of the text, not of the expansion. Merge keys
    (`<<: *base`) are counted the same way: they copy the merged mapping's pairs."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if done:
            on_path.discard(key)
            size[key] = min(1 + sum(size[id(c)] for c in children), EXPANDED_NODES_MAX + 1)
            continue
        if key in size:
            continue
        if key in on_path:
            raise ConfigError(
                "an alias refers to a node that contains it (a recursive document)",
                path=source,
                line=node.start_mark.line + 1,
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)], len(size)


def _compose(text: str, source: str) -> Any:
    """Compose the text into a node graph, refuse one whose aliases expand past the budget, and only
    then construct the data (construction, and merge keys above all, can expand aliases too)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        expanded, distinct = _expanded_size(node, source)
        if distinct > EXPANDED_NODES_MAX:
            raise ConfigError(
                f"the document has more than {EXPANDED_NODES_MAX:,} values, keys and list items; "
                "is it the right file? (split a config that large)",
                path=source,
                line=1,
            )
        if expanded > EXPANDED_NODES_MAX:
            raise ConfigError(
                f"the document's aliases expand to more than {EXPANDED_NODES_MAX:,} nodes "
                "(an alias bomb?); write the values out or use fewer nested aliases",
                path=source,
                line=1,
            )
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML text; return the data and a map from data path to 1-based line number."""
    try:
        node, data = _compose(text, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        # The parser often notices a mistake a line later (an unclosed brace, a stray quote); the
        # context names where the construct it was reading began, which is where the user looks.
        if (
            exc.context
            and exc.context_mark
            and exc.problem_mark
            and exc.context_mark.line != exc.problem_mark.line
        ):
            problem += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise ConfigError(f"malformed YAML: {problem}", path=source, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"malformed YAML: {exc}", path=source) from None
    except RecursionError:
        # PyYAML composes and constructs recursively: thousands of nested brackets exhaust the stack
        raise ConfigError("malformed YAML: nested too deeply", path=source) from None
    lines: dict[PathKey, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, lines


def read_yaml(path: str | Path, *, limit: int = MAX_CONFIG_BYTES) -> tuple[Any, dict[PathKey, int]]:
    """Read (a regular file within `limit` bytes: `dvcwatch.core.inputfile`) and parse."""
    return parse_yaml(read_input_text(path, limit=limit), str(path))


def describe_location(data: Any, loc: PathKey) -> str:
    """Turn ("services", 3, "fee", "amount") into services[3](id=cap-ho-chieu).fee.amount."""
    parts: list[str] = []
    cur = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(cur, list) and 0 <= item < len(cur):
                cur = cur[item]
                if isinstance(cur, dict):
                    ident = cur.get("id") or cur.get("name")
                    if isinstance(ident, str):
                        label = f"[{item}]({ident})"
            else:
                cur = None
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(item))
            cur = cur.get(item) if isinstance(cur, dict) else None
    return "".join(parts) or "(top level)"


def line_for(lines: dict[PathKey, int], loc: PathKey) -> int | None:
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def _most_telling(errors: list[Any]) -> Any:
    """A misspelt key shows up as one unknown field plus one missing field; the unknown one is on
    the line the user got wrong, so it is reported first."""
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def _spelling_hint(extra: Any, errors: list[Any]) -> str:
    """'did you mean processing_time?' when a missing sibling field looks like the unknown key."""
    parent, key = tuple(extra["loc"][:-1]), str(extra["loc"][-1])
    missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing" and tuple(e["loc"][:-1]) == parent]
    close = difflib.get_close_matches(key, missing, n=1)
    return f"; did you mean {close[0]}?" if close else ""


def validation_to_config_error(
    exc: ValidationError, data: Any, lines: dict[PathKey, int], source: str
) -> ConfigError:
    errors = exc.errors()
    first = _most_telling(errors)
    loc = tuple(x for x in first["loc"] if not (isinstance(x, str) and x.startswith("function-")))
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, LocatedValueError):
        loc = (*loc, *cause.loc)
    # pydantic puts discriminator tags into loc; drop anything not present in the data path
    clean: list[Any] = []
    cur = data
    for item in loc:
        if (isinstance(cur, dict) and item in cur) or (
            isinstance(cur, list) and isinstance(item, int) and 0 <= item < len(cur)
        ):
            clean.append(item)
            cur = cur[item]
        elif isinstance(cur, dict) and isinstance(item, str) and first["type"] == "missing":
            clean.append(item)
            break
    msg = first["msg"].removeprefix("Value error, ")  # pydantic's prefix says nothing to the reader
    if first["type"] == "missing":
        msg = "required field is missing"
    elif first["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling)" + _spelling_hint(first, errors)
    elif (
        "input" in first
        and first["type"] not in ("model_type",)
        and not isinstance(first["input"], (dict, list))
    ):
        msg = f"{msg}, got {first['input']!r}"
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ConfigError(
        msg,
        path=source,
        line=line_for(lines, tuple(clean)),
        field=describe_location(data, tuple(clean)),
    )


def validate(model: type[M], data: Any, lines: dict[PathKey, int], source: str) -> M:
    if data is None:  # an empty file: report its missing fields by name, not "(top level)"
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(exc, data, lines, source) from None


def load_model(model: type[M], path: str | Path) -> M:
    """Read a YAML file and validate it; any problem is a ConfigError naming file, line and field."""
    data, lines = read_yaml(path)
    return validate(model, data, lines, str(path))


def load_model_text(model: type[M], text: str, source: str = "<text>") -> M:
    data, lines = parse_yaml(text, source)
    return validate(model, data, lines, source)


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> Any:
    """Seconds as a number, or a string such as `500ms`, `30s`, `5m`: people write both. As a
    pydantic before-validator, anything else passes through for the field's own type check."""
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if not m:
            raise ValueError("a duration is a number of seconds or a string like 500ms, 30s, 5m")
        return float(m.group(1)) * _UNITS[m.group(2)]
    return value


def check_regex(pattern: str) -> str:
    """A regular expression a config field holds, as a pydantic validator needs it: the pattern back,
    or a ValueError whose message says what is wrong with it."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


def resolve_named(name_or_file: str, directory: Path, what: str) -> Path:
    """A built-in name (`stepped-ramp` → DIR/stepped-ramp.yaml) or a path; unknown names list the built-ins."""
    p = Path(name_or_file)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    candidate = directory / f"{name_or_file}.yaml"
    if candidate.exists():
        return candidate
    known = ", ".join(sorted(x.stem for x in directory.glob("*.yaml")))
    plural = what if what.endswith("s") else f"{what}s"
    raise ConfigError(f"unknown {what} {name_or_file!r}; built-in {plural}: {known}")
