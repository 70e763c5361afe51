"""Every config is a regular file of a sane size, checked before it is read: a device, a named pipe or
a file a hundred times too big is one line naming the file, at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dvcwatch.core import yamlconfig
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.inputfile import MAX_CONFIG_BYTES, read_input_bytes
from dvcwatch.core.yamlconfig import read_yaml

ROOT = Path(__file__).resolve().parents[3]


def test_an_oversized_file_is_refused_naming_its_size_and_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "probes.yaml"
    with big.open("w") as f:
        f.write("targets: []\n")
        f.truncate(MAX_CONFIG_BYTES + 3 * 1_048_576)  # sparse: the size, without writing it
    with pytest.raises(ConfigError) as info:
        read_yaml(big)
    err = str(info.value)
    assert err == f"{big}: 7.0 MB, over the 4.0 MB limit for a YAML file; is it the right file?"


def test_a_file_at_the_cap_is_read(tmp_path: Path) -> None:
    ok = tmp_path / "ok.yaml"
    ok.write_bytes(b"#" * (MAX_CONFIG_BYTES - 1) + b"\n")
    assert len(read_input_bytes(ok)) == MAX_CONFIG_BYTES


def test_many_nodes_without_aliases_are_not_called_an_alias_bomb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget is lowered so the test stays quick; the rule is the same at 250 000."""
    monkeypatch.setattr(yamlconfig, "EXPANDED_NODES_MAX", 1000)
    many = tmp_path / "many.yaml"
    many.write_text("[" + ",".join(["1"] * 1001) + "]\n")
    with pytest.raises(ConfigError) as info:
        read_yaml(many)
    assert info.value.detail.startswith("the document has more than 1,000 values, keys and list items")
    assert "alias" not in info.value.detail
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [" + ",".join(["1"] * 100) + "]\nb: [" + ",".join(["*a"] * 20) + "]\n")
    with pytest.raises(ConfigError, match="an alias bomb"):
        read_yaml(bomb)


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "directory"])
def test_a_device_a_fifo_or_a_directory_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """In a child process with a deadline, so a read that blocks or grows fails the test, not the run."""
    path = {"/dev/zero": Path("/dev/zero"), "fifo": tmp_path / "probes.yaml", "directory": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    proc = subprocess.run(
        [sys.executable, "-m", "dvcwatch", "probe", "--config", str(path), "--once"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    expected = {
        "/dev/zero": "is a character device, expected a YAML file (a regular file)",
        "fifo": "is a named pipe (FIFO), expected a YAML file (a regular file)",
        "directory": "is a directory, expected a YAML file (a regular file)",
    }[kind]
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {path}: {expected}"


def test_the_helper_takes_its_own_cap_and_name(tmp_path: Path) -> None:
    har = tmp_path / "take.har"
    har.write_bytes(b"{}" * 600)
    assert read_input_bytes(har, limit=1200, what="a HAR file") == b"{}" * 600
    with pytest.raises(
        ConfigError, match=r"take.har: 1,202 bytes, over the 1,200 bytes limit for a HAR file"
    ):
        har.write_bytes(b"{}" * 601)
        read_input_bytes(har, limit=1200, what="a HAR file")
