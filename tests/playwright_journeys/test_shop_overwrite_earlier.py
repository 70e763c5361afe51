"""`shop --overwrite` keeps the earlier sweep aside until the new one has done at least as much: a sweep
stopped before its first journey, or with fewer journeys, never costs the earlier one (issue 31.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from journey_samples import sample_run

from dvcwatch.orchestration.shop_earlier import set_aside
from playwright_journeys.results import read_results, write_results


def sweep(out: Path, journeys: int) -> None:
    run = sample_run(out)
    write_results(run.model_copy(update={"results": run.results[:journeys]}), out)


@pytest.mark.parametrize(("new", "kept"), [(None, True), (3, True), (25, False)])
def test_the_earlier_sweep_goes_only_when_the_new_one_did_as_much(
    tmp_path: Path, new: int | None, kept: bool
) -> None:
    out = tmp_path / "ward-7"
    sweep(out, 25)
    earlier = set_aside(out)
    assert earlier is not None and earlier.journeys == 25
    assert sorted(p.name for p in out.iterdir()) == [earlier.folder.name]  # out is free for the new one
    if new is not None:  # None: stopped before its first journey wrote anything
        sweep(out, new)
    line = earlier.settle(out)
    assert earlier.folder.exists() is kept, line
    if kept:
        assert f"kept in {earlier.folder}" in line
        assert len(read_results(earlier.folder).results) == 25
        assert (earlier.folder / "artifacts").is_dir()  # its evidence went with it
    else:
        assert "replaced" in line


def test_files_that_are_not_a_sweep_are_never_thrown_away(tmp_path: Path) -> None:
    out = tmp_path / "ward-7"
    out.mkdir()
    (out / "notes.txt").write_text("the district's own notes", encoding="utf-8")
    earlier = set_aside(out)
    assert earlier is not None and earlier.journeys is None
    sweep(out, 25)
    assert "kept in" in earlier.settle(out)
    assert (earlier.folder / "notes.txt").read_text(encoding="utf-8") == "the district's own notes"
    assert set_aside(tmp_path / "new") is None
