"""A YAML alias bomb, a merge-key bomb, a recursive alias or brackets nested thousands deep are one
ConfigError naming the file, for every config dvcwatch reads: never a hang, a memory blow-up or a
traceback. The loads run in child processes under a memory limit, so a regression fails the test
instead of eating the shared machine's memory."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.yamlconfig import EXPANDED_NODES_MAX, load_model_text, parse_yaml

ROOT = Path(__file__).resolve().parents[3]
MEMORY_LIMIT = 1536 * 1024 * 1024  # far above what a real config needs, far below a bomb's appetite


def laughs(levels: int = 9) -> str:
    """The classic "billion laughs": nine levels of nine aliases, 9**9 strings once expanded."""
    out = ['lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        out.append(f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]")
    return "\n".join(out) + "\n"


def merge_laughs(levels: int = 9) -> str:
    """The same through merge keys, which PyYAML expands while constructing the data."""
    out = ["m0: &m0 {a: 1, b: 2, c: 3}"]
    for i in range(1, levels):
        out.append(f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}]}}")
    return "\n".join(out) + "\n"


HOSTILE = {
    "laughs": laughs(),
    "laughs-in-a-probe-config": laughs()
    + "targets:\n  - {name: a, kind: http, url: 'http://127.0.0.1:1/'}\n"
    + "defaults: {headers: *lol8}\n",
    "merge-laughs": merge_laughs(),
    "recursive": "a: &a [1, *a]\n",
    "deep": "x: " + "[" * 5000 + "]" * 5000 + "\n",
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # bounds a hung regression; a working load answers at once
        preexec_fn=_limit_memory,
    )


LOAD = """
import sys
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.yamlconfig import load_model
from {module} import {model} as Model
try:
    load_model(Model, sys.argv[1])
except ConfigError as exc:
    print(exc)
    sys.exit(2)
print("loaded")
"""

MODELS = [
    ("probes.config", "ProbeConfig"),
    ("dvcwatch.core.profile", "Profile"),
]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize(("module", "model"), MODELS)
def test_load_model_refuses_a_hostile_document_with_one_line(
    kind: str, module: str, model: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(HOSTILE[kind], encoding="utf-8")
    done = run_limited([sys.executable, "-c", LOAD.format(module=module, model=model), str(path)])
    assert done.returncode == 2, (done.stdout, done.stderr[-2000:])
    line = done.stdout.strip()
    assert line.count("\n") == 0 and line.startswith(str(path)), line
    expected = {
        "recursive": "recursive document",
        "deep": "nested too deeply",
    }.get(kind, "alias")
    assert expected in line


@pytest.mark.parametrize("kind", ["laughs-in-a-probe-config", "merge-laughs", "recursive"])
def test_the_probe_command_exits_2_with_one_line(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text(HOSTILE[kind], encoding="utf-8")
    done = run_limited([sys.executable, "-m", "dvcwatch", "probe", "--config", str(path), "--once"])
    assert done.returncode == 2, done.stderr[-2000:]
    err = done.stderr.strip()
    assert err.count("\n") == 0 and str(path) in err


def test_aliases_within_the_budget_still_load_with_their_lines() -> None:
    text = "base: &base {end: 5}\nrules:\n  - {name: a, window: *base}\n  - {name: b, window: *base}\n"
    data, lines = parse_yaml(text, "x.yaml")
    assert data["rules"][1]["window"] == {"end": 5}
    assert lines[("rules", 1, "name")] == 4
    assert lines[("rules", 1, "window", "end")] == 1  # inside the alias: where the anchor wrote it


def test_the_budget_counts_expansion_not_text() -> None:
    # six levels: 9**6 = 531 441 strings from six short lines, over the budget
    assert EXPANDED_NODES_MAX < 9**6
    with pytest.raises(ConfigError, match="aliases expand to more than"):
        load_model_text(BaseModel, laughs(6), "six.yaml")
    parse_yaml(laughs(5), "five.yaml")  # 9**5 = 59 049 expanded nodes: a big but honest document
