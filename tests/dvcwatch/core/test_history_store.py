"""The history store: a sweep's rows go in once, dossiers are followed, and a due date judges them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.history_store import (
    DossierRow,
    HistoryStore,
    JourneyRow,
    due_end,
    judge,
    parse_due_date,
)

AT = "2026-11-20T03:00:00+00:00"


def row(service: str = "dang-ky-khai-sinh", **kw: object) -> JourneyRow:
    base = dict(
        at=AT, portal="sandbox", environment="sandbox", vantage="local", persona="desktop", service=service,
        name_vi="Đăng ký khai sinh", name_en="Birth registration", verdict="pass", duration_seconds=12.0,
        submit_seconds=9.5, steps={"login": 1.2, "submit": 0.8}, dossier_code="G22-1", due_date="2026-11-21",
    )  # fmt: skip
    base.update(kw)
    return JourneyRow(**base)  # type: ignore[arg-type]


def test_rows_go_in_once_and_come_back_as_written(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path) as store:  # a folder: the file goes inside it
        assert store.add_journeys([row(), row("cap-doi-gplx", dossier_code=None, verdict="fail")]) == 2
        assert store.add_journeys([row()]) == 0  # the same sweep imported again adds nothing
        got = store.journeys()
    assert (tmp_path / "history.sqlite3").is_file()
    assert got[0] == row() and len(got) == 2
    with HistoryStore.open(tmp_path / "history.sqlite3") as store:
        since = datetime(2026, 11, 20, 3, tzinfo=UTC)
        assert len(store.journeys(since=since)) == 2
        assert store.journeys(since=since + timedelta(seconds=1)) == []


def test_a_filed_dossier_is_followed_until_its_first_final_look(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path) as store:
        store.add_journeys([row(), row("cap-ho-chieu", dossier_code="G22-2", result_mode="download")])
        assert [d.code for d in store.dossiers(open_only=True)] == ["G22-1"]  # G22-2's journey got it
        t1 = datetime(2026, 11, 20, 8, tzinfo=UTC)
        store.record_check("sandbox", "G22-1", t1, status="processing")
        store.record_check("sandbox", "G22-1", t1 + timedelta(hours=1), status=None, problem="HTTP 503")
        d = store.dossiers(open_only=True)[0]
        assert (d.status, d.checks, d.last_problem, d.result_at) == ("processing", 2, "HTTP 503", None)
        store.record_check(
            "sandbox", "G22-1", t1 + timedelta(hours=2), status="done", result_mode="in_person"
        )
        store.record_check(
            "sandbox", "G22-1", t1 + timedelta(hours=3), status="done", result_mode="in_person"
        )
        d = next(x for x in store.dossiers() if x.code == "G22-1")
    assert (d.status, d.result_mode, d.checks) == ("done", "in_person", 4)
    assert d.result_at == "2026-11-20T10:00:00+00:00"  # the first look that found it, not the last


def test_the_portals_own_result_date_wins_over_the_looks_time(tmp_path: Path) -> None:
    """A follow-up that looks hourly would date a result up to an hour late; the portal's printed
    "Ngày trả kết quả" is when it came, and a later look does not move it."""
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        store.add_journeys([row()])
        looked = datetime(2026, 11, 20, 8, tzinfo=UTC)
        printed = datetime(2026, 11, 20, 13, 5, 9, tzinfo=timezone(timedelta(hours=7)))  # Vietnam time
        store.record_check(
            "sandbox", "G22-1", looked, status="done", result_mode="download", result_at=printed
        )
        store.record_check("sandbox", "G22-1", looked + timedelta(hours=1), status="done", result_at=looked)
        d = store.dossiers()[0]
    assert d.result_at == "2026-11-20T06:05:09+00:00"


def test_judged_against_the_end_of_the_due_day_in_the_portals_zone() -> None:
    tz = UTC
    end = due_end("2026-11-21", tz)
    assert end == datetime(2026, 11, 22, tzinfo=UTC)
    d = DossierRow("p", "c", "s", "v", AT, "2026-11-21")
    done = lambda at, mode="download": DossierRow(  # noqa: E731
        "p", "c", "s", "v", AT, "2026-11-21", status="done", result_mode=mode, result_at=at
    )
    assert judge(done("2026-11-21T23:59:59+00:00"), end, tz).state == "on_time"
    late = judge(done("2026-11-22T05:30:00+00:00", "in_person"), end, tz)
    assert (late.state, late.by_seconds, late.at_office) == ("late", 5.5 * 3600, True)
    assert judge(d, end - timedelta(hours=1), tz).state == "open"
    past = judge(d, end + timedelta(days=2), tz)
    assert (past.state, past.by_seconds) == ("open_past_due", 2 * 86400)
    no_due = DossierRow("p", "c", "s", "v", AT, None, status="done", result_at=AT)
    assert judge(no_due, end, tz).state == "answered_no_due"


def test_due_dates_as_portals_print_them() -> None:
    assert parse_due_date("21/11/2026") == "2026-11-21"
    assert parse_due_date("2026-11-21") == "2026-11-21"
    assert parse_due_date(" 21.11.2026 ") == "2026-11-21"
    assert parse_due_date("ngày mai") is None and parse_due_date(None) is None


def test_a_file_that_is_not_a_history_is_refused_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "history.sqlite3"
    bad.write_text("not a database, just words " * 100)
    with pytest.raises(ConfigError, match="history"):
        HistoryStore.open(bad)
