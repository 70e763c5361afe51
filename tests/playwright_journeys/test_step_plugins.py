"""A profile may name a step plugin: an entry point of group `dvcwatch.core.steps` from any installed
package (here a tiny distribution written to a temporary folder on sys.path), or module:function."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import load_profile
from playwright_journeys.personas import load_personas
from playwright_journeys.plugins import load_plugin
from playwright_journeys.runner import SweepConfig, run_sweep

PLUGIN = '''
from playwright_journeys.journey import Journey


async def result(j: Journey) -> None:
    """A portal whose results are e-mailed: the plugin only notes the code it would look for."""
    j.detail = f"plugin looked for {j.dossier_code}"


def not_async(j):
    return None
'''


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "ward_steps.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "ward_steps-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ward-steps\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[dvcwatch.core.steps]\nward-result = ward_steps:result\nward-sync = ward_steps:not_async\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ward-result"


def test_entry_points_and_module_paths_load_and_mistakes_are_named(installed_plugin: str) -> None:
    assert load_plugin(installed_plugin, step="result").__name__ == "result"
    assert load_plugin("ward_steps:result", step="result").__name__ == "result"
    with pytest.raises(
        ConfigError, match=r"journey.plugins.result: no step plugin 'nope'.*known: .*ward-result"
    ):
        load_plugin("nope", step="result")
    with pytest.raises(ConfigError, match="must be an async function"):
        load_plugin("ward-sync", step="result")
    with pytest.raises(ConfigError, match="cannot load step plugin 'ward_steps:missing'"):
        load_plugin("ward_steps:missing", step="result")


@pytest.mark.browser
def test_a_profile_plugin_replaces_its_step_in_a_journey(
    installed_plugin: str, sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sandbox_factory()
    profile = load_profile(server.url)
    profile = profile.model_copy(
        update={"journey": profile.journey.model_copy(update={"plugins": {"result": installed_plugin}})}
    )
    catalog = load_catalog()
    run = run_sweep(
        SweepConfig(
            profile=profile,
            catalog=catalog,
            services=[catalog.service("dang-ky-khai-tu")],
            personas=[load_personas().get("desktop")],
            out_dir=tmp_path,
            parallel=1,
        )
    )
    r = run.results[0]
    assert r.verdict == "pass", r.failure
    result = next(s for s in r.steps if s.name == "result")
    assert result.detail == f"plugin looked for {r.dossier_code}"
