"""results.json is read by other tools: it round-trips, refuses other schema versions, and shards merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from journey_samples import sample_run

from dvcwatch.core.errors import ConfigError
from playwright_journeys.results import merge, read_results, write_results

REQUIRED = {
    "service", "persona", "verdict", "failed_step", "level_promised", "level_delivered", "steps",
    "dossier_code", "artifacts",
}  # fmt: skip


def test_results_json_has_the_contract_fields_and_round_trips(tmp_path: Path) -> None:
    run = sample_run(tmp_path)
    path = write_results(run, tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1
    assert data["summary"] == {
        "total": 25, "pass": 19, "degraded": 2, "fail": 3, "error": 1, "not_filed": 0, "share_end_to_end": 0.76,
    }  # fmt: skip
    first = data["results"][0]
    assert set(first) >= REQUIRED
    assert {"name", "status", "duration_seconds"} <= set(first["steps"][0])
    failed = next(r for r in data["results"] if r["service"] == "dang-ky-khai-sinh")
    assert failed["failed_step"] == "submit" and failed["artifacts"]["screenshot"].endswith(".png")
    assert read_results(tmp_path) == run


def test_another_schema_version_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path = write_results(sample_run(tmp_path), tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 2
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="schema_version 2, this dvcwatch reads 1") as info:
        read_results(path)
    assert info.value.path == str(path)


def test_shards_merge_into_one_sweep_with_artifact_paths_still_valid(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "all"
    full = sample_run(a)
    sample_run(b)  # writes b's screenshots too
    half = len(full.results) // 2
    run_a = full.model_copy(update={"results": full.results[:half], "shard": "1/2"})
    run_b = full.model_copy(update={"results": full.results[half:], "shard": "2/2"})
    merged = merge([(run_a, a), (run_b, b)], out)
    assert [r.service for r in merged.results] == [r.service for r in full.results]
    assert merged.summary == full.summary
    for r in merged.results:
        if r.artifacts.screenshot:
            assert (out / r.artifacts.screenshot).resolve().is_file()
    with pytest.raises(ConfigError, match="appears in two shards"):
        merge([(run_a, a), (run_a, a)], out)
