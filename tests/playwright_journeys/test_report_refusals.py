"""`dvcwatch report` and `report import` from outside: where they write, what they refuse (issue 31:
items 9, 10, 11, 14), each refusal one line and exit 2, and a history they only read left unchanged."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from journey_samples import sample_run

from dvcwatch.commands.cli import main
from dvcwatch.core.history_store import HistoryStore
from playwright_journeys.results import write_results


def one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    folder = tmp_path / "shop-1"
    write_results(sample_run(folder), folder)
    return folder / "results.json"


def test_import_writes_to_the_history_given_before_the_action(
    tmp_path: Path, sweep: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVCWATCH_HISTORY", raising=False)
    chosen = tmp_path / "chosen.sqlite3"
    assert main(["report", "--history", str(chosen), "import", str(sweep)]) == 0
    assert "25 new" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
    with HistoryStore.open(chosen, readonly=True) as store:
        assert len(store.journeys()) == 25


def test_import_refuses_a_file_that_is_not_utf8_a_fifo_or_not_dated(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = str(tmp_path / "h.sqlite3")
    latin = tmp_path / "latin1.json"
    latin.write_bytes('{"tool": "Đăng ký"}'.encode("utf-16"))
    assert main(["report", "import", str(latin), "--history", history]) == 2
    one_line_error(capsys, "UTF-8", str(latin))
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert main(["report", "import", str(fifo), "--history", history]) == 2  # never blocks on it
    one_line_error(capsys, "named pipe", str(fifo))
    data = json.loads(sweep.read_text(encoding="utf-8"))
    data["started_at"] = "not a date"
    undated = tmp_path / "undated.json"
    undated.write_text(json.dumps(data), encoding="utf-8")
    assert main(["report", "import", str(undated), "--history", history]) == 2
    one_line_error(capsys, "started_at", "ISO 8601")


def test_report_refuses_a_period_past_the_calendar_and_an_out_it_cannot_write(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = str(tmp_path / "h.sqlite3")
    assert main(["report", "import", str(sweep), "--history", history]) == 0
    capsys.readouterr()
    assert main(["report", "--since", "400000d", "--history", history]) == 2
    one_line_error(capsys, "--since", "at most")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for out in (a_file, a_file / "below"):
        assert main(["report", "--history", history, "--out", str(out)]) == 2
        one_line_error(capsys, "--out")
    assert main(["report", "--history", history, "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "report.html").is_file()


def test_report_never_writes_into_an_empty_or_foreign_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty, foreign = tmp_path / "empty.sqlite3", tmp_path / "ledger.sqlite3"
    empty.write_bytes(b"")
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.close()
    before = {p: p.read_bytes() for p in (empty, foreign)}
    out = str(tmp_path / "rep")
    assert main(["report", "--history", str(empty), "--out", out]) == 2
    one_line_error(capsys, "empty database")
    assert main(["report", "--history", str(foreign), "--out", out]) == 2
    one_line_error(capsys, "another application's database")
    assert main(["report", "--history", str(foreign), "import", str(tmp_path)]) == 2
    capsys.readouterr()
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in tmp_path.glob("*.sqlite3*")) == ["empty.sqlite3", "ledger.sqlite3"]
