"""A replaced file is whole at every moment and leaves nothing beside it."""

from __future__ import annotations

from pathlib import Path

from dvcwatch.core.atomic import write_text


def test_write_text_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "probers.json"
    write_text(path, "[]")
    write_text(path, '[{"targets": ["127.0.0.1:9477"]}]')
    assert path.read_text(encoding="utf-8") == '[{"targets": ["127.0.0.1:9477"]}]'
    assert [p.name for p in tmp_path.iterdir()] == ["probers.json"]
