"""`dvcwatch shop` refuses bad input with one line and exit 2 before starting anything, and merges shards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from journey_samples import sample_run

from dvcwatch.commands.cli import main
from playwright_journeys.results import write_results

BAD = [
    (["--shard", "3/2"], "--shard '3/2': give K/N with 1 <= K <= N"),
    (["--shard", "half"], "--shard 'half'"),
    (["--every", "5x"], "--every '5x': give a duration like 30s, 15m or 1h"),
    (["--listen", "127.0.0.1:9465"], "--listen serves metrics between scheduled sweeps: give --every too"),
    (["--every", "1m", "--listen", "nowhere"], "--listen 'nowhere': give host:port"),
    (["--parallel", "0"], "--parallel must be at least 1"),
    (["--retries", "-1"], "--retries cannot be negative"),
    (
        ["--service", "dang-ky-khai-sinhh"],
        "unknown service id 'dang-ky-khai-sinhh'; did you mean dang-ky-khai-sinh",
    ),
    (["--persona", "tablet"], "unknown persona 'tablet'; one of desktop, phone, slow-3g"),
    (["--target", "khong-co.yaml"], "khong-co.yaml: profile file not found"),
    (["--target", "http://127.0.0.1:1", "--every", "1m", "--max-runs", "0"], "--max-runs must be at least 1"),
    (["--step-timeout", "nan"], "--step-timeout nan: give seconds, more than 0 and at most 3600"),
    (["--step-timeout", "inf"], "--step-timeout inf: give seconds"),
    (["--every", "1ms"], "--every '1ms': at least 1m between the starts of two sweeps"),
    (["--every", "59s"], "--every '59s': at least 1m"),
    (["--every", "9999999h"], "--every '9999999h': at most a year"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DVCWATCH_SHOP_MIN_EVERY", raising=False)
    assert main(["shop", *argv]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_a_broken_profile_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prof = tmp_path / "ward.yaml"
    prof.write_text("name: ward\nbase_url: http://127.0.0.1:1\njourney:\n  step_timeout_seconds: soon\n")
    assert main(["shop", "--target", str(prof)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{prof}:4: journey.step_timeout_seconds" in err


def test_merge_joins_shards_into_one_results_file_and_scorecard(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "all"
    full = sample_run(a)
    sample_run(b)
    half = len(full.results) // 2
    write_results(full.model_copy(update={"results": full.results[:half], "shard": "1/2"}), a)
    write_results(full.model_copy(update={"results": full.results[half:], "shard": "2/2"}), b)
    code = main(["shop", "--merge", str(a), "--merge", str(b), "--out", str(out)])
    assert code == 1, "the sample sweep has failures"
    merged = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert merged["summary"]["total"] == 25 and merged["shard"] == "merged from 2"
    html = (out / "scorecard.html").read_text(encoding="utf-8")
    assert 'data-testid="tile-dang-ky-khai-sinh" data-verdict="fail"' in html
    again = ["shop", "--merge", str(a), "--merge", str(b), "--out", str(out), "--fail-on", "fail"]
    assert main([*again, "--overwrite"]) == 1


def test_a_prompt_otp_source_without_a_terminal_stops_the_sweep_before_any_browser(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from dvcwatch.commands.cli import main

    profile = tmp_path / "p.yaml"
    profile.write_text(
        "version: 2\nname: x\nbase_url: http://127.0.0.1:9\notp: {source: prompt}\n", encoding="utf-8"
    )
    code = main(["shop", "--target", str(profile), "--service", "cap-ho-chieu", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "not a TTY" in capsys.readouterr().err
    assert not (tmp_path / "o" / "results.json").exists()


def test_an_unwritable_out_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shop", "--target", "http://127.0.0.1:1", "--out", "/proc/x"]) == 2
    err = capsys.readouterr().err
    assert "--out /proc/x: cannot write there" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_earlier_results_are_not_overwritten_without_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ward-7"
    out.mkdir()
    (out / "results.json").write_text("earlier", encoding="utf-8")
    (out / "scorecard.html").write_text("earlier", encoding="utf-8")
    assert main(["shop", "--target", "http://127.0.0.1:1", "--out", str(out)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--out {out} already holds files" in err and "--overwrite" in err
    a, b = tmp_path / "a", tmp_path / "b"
    full = sample_run(a)
    write_results(full.model_copy(update={"results": full.results[:5], "shard": "1/2"}), a)
    write_results(full.model_copy(update={"results": full.results[5:], "shard": "2/2"}), b)
    assert main(["shop", "--merge", str(a), "--merge", str(b), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "results.json").read_text(encoding="utf-8") == "earlier"
    assert (out / "scorecard.html").read_text(encoding="utf-8") == "earlier"
    assert main(["shop", "--merge", str(a), "--merge", str(b), "--out", str(out), "--overwrite"]) == 1
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["summary"]["total"] == 25


def test_an_error_quoting_markup_is_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shop", "--target", "http://127.0.0.1:1", "--out", "/proc/[/]x[lowercase]"]) == 2
    err = capsys.readouterr().err
    assert "--out /proc/[/]x[lowercase]: cannot write there" in err and "Traceback" not in err


def test_a_configuration_error_in_the_first_scheduled_sweep_ends_the_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    personas = tmp_path / "personas.yaml"
    personas.write_text(
        "personas:\n  - {name: nokia, label_vi: Nokia, label_en: Nokia, device: Nokia 3310, budget_seconds: 60}\n",
        encoding="utf-8",
    )
    argv = ["shop", "--target", "http://127.0.0.1:1", "--personas-file", str(personas), "--persona", "nokia"]
    argv += ["--every", "1m", "--max-runs", "3", "--out", str(tmp_path / "mon")]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown Playwright device 'Nokia 3310'" in err and "sweep 1 failed" not in err


def test_a_history_that_is_another_applications_database_is_refused_before_any_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 31.11: the sweep would end by adding dvcwatch tables to someone else's database."""
    import sqlite3

    ledger = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(ledger) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.close()
    before = ledger.read_bytes()
    monkeypatch.setenv("DVCWATCH_HISTORY", str(ledger))
    assert main(["shop", "--target", "http://127.0.0.1:1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "another application's database" in err and "Traceback" not in err, err
    assert ledger.read_bytes() == before and not (tmp_path / "o").exists()
