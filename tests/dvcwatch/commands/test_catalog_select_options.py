"""`dvcwatch catalog --service X` shows every select field's options in full: they are the words a
profile maps from (`forms.<service>.fields.<field>.options`), whether the portal offers a select or a
text box, so a person writing that mapping reads them here rather than in the YAML."""

from __future__ import annotations

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.catalog import load_catalog

CATALOG = load_catalog()


@pytest.mark.parametrize("service_id", ["cap-doi-cccd", "dang-ky-khai-sinh", "dang-ky-xe"])
def test_every_select_field_shows_each_of_its_options(
    service_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    assert main(["catalog", "--service", service_id]) == 0
    out = capsys.readouterr().out
    selects = [f for f in CATALOG.all_fields(CATALOG.service(service_id)) if f.options]
    assert selects
    for f in selects:
        row = next(line for line in out.splitlines() if f" {f.name} " in line)
        assert " · ".join(f.options or []) in row, row
