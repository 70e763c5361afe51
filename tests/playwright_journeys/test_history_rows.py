"""A sweep's results.json becomes history rows, through `dvcwatch report import` as through `shop`."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from journey_samples import sample_run
from proctree import descendants, wait_gone

from dvcwatch.commands.cli import main
from dvcwatch.core.history_store import HistoryStore
from dvcwatch.core.waiting import poll_until
from playwright_journeys.history import rows_from_run
from playwright_journeys.results import write_results


def test_rows_carry_what_the_report_needs(tmp_path: Path) -> None:
    run = sample_run(tmp_path)
    rows = {r.service: r for r in rows_from_run(run, tmp_path)}
    assert len(rows) == len(run.results)
    broke = rows["dang-ky-khai-sinh"]
    assert (broke.verdict, broke.failed_step, broke.failure) == ("fail", "submit", "no answer in 5 s")
    assert broke.screenshot and Path(broke.screenshot).is_absolute() and Path(broke.screenshot).is_file()
    assert broke.steps["submit"] == 5.0 and "tracking" not in broke.steps  # steps that never ran: none
    assert (broke.at, broke.portal, broke.vantage) == (run.started_at, "sandbox", "test")
    assert rows["dang-ky-ket-hon"].dossier_code and rows["dang-ky-ket-hon"].result_mode is None


def test_report_import_adds_a_sweep_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "shop-1"
    write_results(sample_run(sweep), sweep)
    history = tmp_path / "h.sqlite3"
    assert main(["report", "import", str(sweep / "results.json"), "--history", str(history)]) == 0
    assert "25 journeys, 25 new" in capsys.readouterr().err
    assert main(["report", "import", str(sweep), "--history", str(history)]) == 0
    assert "25 journeys, 0 new" in capsys.readouterr().err
    with HistoryStore.open(history) as store:
        assert len(store.journeys()) == 25
        assert len(store.dossiers(open_only=True)) == sum(
            1 for r in sample_run(sweep).results if r.dossier_code
        )


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "results.json"
    bad.write_text("{not json")
    history = str(tmp_path / "h.sqlite3")
    assert main(["report", "import", str(bad), "--history", history]) == 2
    assert "not JSON" in capsys.readouterr().err
    assert main(["report", "--history", str(tmp_path / "none.sqlite3")]) == 2
    assert "no history here yet" in capsys.readouterr().err
    assert main(["report", "--since", "7x", "--history", history]) == 2
    assert "--since" in capsys.readouterr().err
    assert main(["follow-up", "--target", "http://127.0.0.1:9", "--history", str(tmp_path / "none")]) == 2
    assert (
        main(["follow-up", "--target", "http://127.0.0.1:9", "--max-passes", "3", "--history", history]) == 2
    )
    assert "--every" in capsys.readouterr().err


def test_shop_records_beside_out_and_a_history_it_cannot_write_does_not_cost_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dvcwatch.orchestration.follow_up import sweep_hooks
    from dvcwatch.orchestration.shop_runs import SweepRecord

    out = tmp_path / "results" / "shop-1"
    run = sample_run(out)
    monkeypatch.delenv("DVCWATCH_HISTORY", raising=False)
    (record,) = sweep_hooks(None, None)
    record(SweepRecord(run, out, 1, 0.0))
    with HistoryStore.open(tmp_path / "results" / "history.sqlite3") as store:
        assert len(store.journeys()) == 25

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DVCWATCH_HISTORY", str(blocker / "history.sqlite3"))  # under a file: cannot be
    (record,) = sweep_hooks(None, None)
    record(SweepRecord(run, out, 2, 0.0))  # says so, does not raise
    assert "history not written" in capsys.readouterr().err


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_follow_up_stopped_by_a_signal_keeps_its_looks_and_leaves_no_process(
    sandbox: object, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """Dossiers the sandbox does not know (the sample sweep's codes) make every look wait out its
    timeout, so the follow-up is surely in the middle of a pass when the signal comes."""
    sweep = tmp_path / "shop-1"
    write_results(sample_run(sweep), sweep)
    history = tmp_path / "h.sqlite3"
    assert main(["report", "import", str(sweep), "--history", str(history)]) == 0
    argv = ["follow-up", "--target", sandbox.url, "--history", str(history), "--timeout", "1"]  # type: ignore[attr-defined]
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvcwatch", *argv],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # as a script's background job starts it: SIGINT ignored, which Python keeps (Ctrl-C must still stop it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        poll_until(lambda: _checks(history) >= 2 or proc.poll() is not None, timeout=120, interval=0.2)
        assert proc.poll() is None and _checks(history) >= 2, "the follow-up is making its looks"
        kids = descendants(proc.pid)
        assert kids, "the browser runs under the follow-up"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert wait_gone(kids) == [], "no browser left behind"
    assert _checks(history) >= 2  # each look was saved as it was made


def _checks(history: Path) -> int:
    import sqlite3

    with sqlite3.connect(history) as c:
        return int(c.execute("SELECT COALESCE(SUM(checks), 0) FROM dossiers").fetchone()[0])
