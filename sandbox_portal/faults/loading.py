"""Read faults from a file (`--faults`) or an admin request body (YAML or JSON).

A body may be a whole faults file (`faults: [...]`), a bare list, or one fault; all are normalised to
a `FaultFile` with line numbers kept, so an error names the line and field the sender wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.yamlconfig import parse_yaml, read_yaml, validate
from sandbox_portal.faults.model import FaultFile


def _normalise(data: Any, lines: dict[tuple[Any, ...], int]) -> tuple[Any, dict[tuple[Any, ...], int]]:
    if isinstance(data, list):
        return {"faults": data}, {("faults", *k): v for k, v in lines.items()}
    if isinstance(data, dict) and "kind" in data and "faults" not in data:
        return {"faults": [data]}, {("faults", 0, *k): v for k, v in lines.items()}
    return data, lines


def _validate(data: Any, lines: dict[tuple[Any, ...], int], source: str) -> FaultFile:
    if data is None:
        raise ConfigError("empty faults document: expected `faults:` with a list of faults", path=source)
    if not isinstance(data, dict | list):
        raise ConfigError("expected `faults:` with a list of faults, a list, or one fault", path=source)
    data, lines = _normalise(data, lines)
    return validate(FaultFile, data, lines, source)


def load_faults_file(path: str | Path) -> FaultFile:
    data, lines = read_yaml(path)
    return _validate(data, lines, str(path))


def parse_faults_text(text: str, source: str = "request body") -> FaultFile:
    data, lines = parse_yaml(text, source)
    return _validate(data, lines, source)
