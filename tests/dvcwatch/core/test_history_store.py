"""The history store: a sweep's rows go in once, dossiers are followed, and a due date judges them.

What a history does is tested on both databases (`where`: an SQLite file, or a database of its own on
a real PostgreSQL started for the session); what only a file can be (garbage, schema 1, empty) on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from postgres_server import Postgres, postgres  # noqa: F401  (the session's server)

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


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty history: a file path, or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    server: Postgres = request.getfixturevalue("postgres")
    return server.fresh_database(f"h_{abs(hash(request.node.nodeid)) % 10**9}")


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


def test_a_filed_dossier_is_followed_until_its_first_final_look(where: str) -> None:
    with HistoryStore.open(where) as store:
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


def test_the_portals_own_result_date_wins_over_the_looks_time(where: str) -> None:
    """A follow-up that looks hourly would date a result up to an hour late; the portal's printed
    "Ngày trả kết quả" is when it came, and a later look does not move it."""
    with HistoryStore.open(where) as store:
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


def test_two_sweeps_started_in_the_same_second_keep_every_journey(where: str) -> None:
    """Issue 31.3: the sweep's start, to the second, was part of a row's identity; each journey has
    its own id now, and a sweep imported twice still adds nothing."""
    services = ["dang-ky-khai-sinh", "cap-doi-gplx", "cap-ho-chieu", "dang-ky-ket-hon", "cap-dien-moi"]
    sweeps = [[row(s, journey_id=f"{n}-{s}", dossier_code=None) for s in services] for n in ("a", "b")]
    with HistoryStore.open(where) as store:
        assert store.add_journeys(sweeps[0]) == 5
        assert store.add_journeys(sweeps[1]) == 5
        assert store.add_journeys(sweeps[1]) == 0
        assert len(store.journeys()) == 10


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE journeys (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, portal TEXT NOT NULL, environment TEXT NOT NULL,
    vantage TEXT NOT NULL, persona TEXT NOT NULL, service TEXT NOT NULL, name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL, verdict TEXT NOT NULL, failed_step TEXT, failure TEXT, submit_seconds REAL,
    duration_seconds REAL NOT NULL, steps TEXT NOT NULL, level_promised TEXT, level_delivered TEXT,
    dossier_code TEXT, due_date TEXT, result_mode TEXT, scorecard TEXT, screenshot TEXT,
    UNIQUE (at, portal, vantage, persona, service)
);
CREATE INDEX journeys_at ON journeys (at);
CREATE TABLE dossiers (
    portal TEXT NOT NULL, code TEXT NOT NULL, service TEXT NOT NULL, vantage TEXT NOT NULL,
    filed_at TEXT NOT NULL, due_date TEXT, status TEXT, result_mode TEXT, result_at TEXT,
    checks INTEGER NOT NULL DEFAULT 0, last_checked_at TEXT, last_problem TEXT, PRIMARY KEY (portal, code)
);
INSERT INTO journeys (at, portal, environment, vantage, persona, service, name_vi, name_en, verdict,
    duration_seconds, steps) VALUES
    ('2026-11-20T03:00:00+00:00', 'sandbox', 'sandbox', 'local', 'desktop', 'dang-ky-khai-sinh',
     'Đăng ký khai sinh', 'Birth registration', 'pass', 12.0, '{"login": 1.2}');
"""


def test_a_schema_1_history_is_migrated_in_place_keeping_its_rows(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
    with HistoryStore.open(path, readonly=True) as store:  # the report reads it as it is
        assert [r.service for r in store.journeys()] == ["dang-ky-khai-sinh"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == ("1",)
    with HistoryStore.open(path) as store:
        old = store.journeys()[0]
        assert old.steps == {"login": 1.2} and old.journey_id.startswith("legacy:")
        # the same journey from its old results.json (no id) is the same row; a new one is a new row
        assert store.add_journeys([row(dossier_code=None, steps={"login": 1.2}, submit_seconds=None)]) == 0
        assert store.add_journeys([row(journey_id="new-sweep", dossier_code=None)]) == 1
        assert len(store.journeys()) == 2
    with HistoryStore.open(path) as store:  # opened again: nothing more to migrate
        assert len(store.journeys()) == 2


def foreign_database(path: Path) -> bytes:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.close()
    return path.read_bytes()


def test_another_applications_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """Issue 31.11: neither the report (read-only) nor a sweep adds our tables to someone else's file."""
    path = tmp_path / "ledger.sqlite3"
    before = foreign_database(path)
    for readonly in (True, False):
        with pytest.raises(ConfigError, match="another application's database"):
            HistoryStore.open(path, readonly=readonly)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite3"]


def test_the_report_reads_an_empty_file_without_writing_to_it(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(ConfigError, match="empty database"):
        HistoryStore.open(path, readonly=True)
    assert path.read_bytes() == b""
    with HistoryStore.open(path) as store:  # a sweep may start its history in an empty file
        assert store.journeys() == []


def test_rows_written_come_back_as_written_on_either_database(where: str) -> None:
    """Types survive the trip (PostgreSQL's REAL would round 9.5 s's neighbours), the report's reading
    is read-only, and the portals in the history are listed."""
    rows = [row(submit_seconds=9.123456789), row("cap-doi-gplx", dossier_code=None, portal="tinh-b")]
    with HistoryStore.open(where) as store:
        assert store.add_journeys(rows) == 2
        assert store.add_journeys(rows) == 0
    with HistoryStore.open(where, readonly=True) as store:
        assert store.journeys() == rows
        assert store.portals() == ["sandbox", "tinh-b"]
        assert [d.code for d in store.dossiers()] == ["G22-1"]


def test_concurrent_writers_lose_nothing(where: str) -> None:
    """Several runners recording at once, each through its own connection: every row is kept and none
    of them fails on a lock (SQLite waits and retries; PostgreSQL commits each sweep in a transaction)."""
    from concurrent.futures import ThreadPoolExecutor

    HistoryStore.open(where).close()  # the tables exist; the race below is about rows

    def runner(n: int) -> int:
        total = 0
        for sweep in range(5):
            batch = [
                row(f"s{k}", journey_id=f"r{n}-w{sweep}-{k}", dossier_code=f"D{n}-{sweep}-{k}")
                for k in range(8)
            ]
            with HistoryStore.open(where) as store:
                total += store.add_journeys(batch)
        return total

    with ThreadPoolExecutor(4) as pool:
        added = list(pool.map(runner, range(4)))
    assert added == [40] * 4
    with HistoryStore.open(where, readonly=True) as store:
        assert len(store.journeys()) == 160 and len(store.dossiers()) == 160


def test_runners_creating_the_tables_at_once_all_succeed(where: str) -> None:
    """Four runners started together against a new database: one creates the tables, the others find them."""
    from concurrent.futures import ThreadPoolExecutor

    def first_sweep(n: int) -> int:
        with HistoryStore.open(where) as store:
            return store.add_journeys([row(journey_id=f"first-{n}", dossier_code=None)])

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(first_sweep, range(4))) == [1] * 4


def test_a_postgresql_database_of_another_application_is_refused_untouched(postgres: Postgres) -> None:  # noqa: F811
    import psycopg

    url = postgres.fresh_database("ledger")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    for readonly in (True, False):
        with pytest.raises(ConfigError, match="another application's database"):
            HistoryStore.open(url, readonly=readonly)
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"invoices"}


def test_the_report_refuses_an_empty_postgresql_database_without_writing(postgres: Postgres) -> None:  # noqa: F811
    url = postgres.fresh_database("empty_history")
    with pytest.raises(ConfigError, match="empty database"):
        HistoryStore.open(url, readonly=True)
    with HistoryStore.open(url) as store:  # the first sweep creates the tables
        assert store.journeys() == []


def test_the_password_in_a_url_never_shows_in_errors(postgres: Postgres) -> None:  # noqa: F811
    from postgres_server import PASSWORD

    wrong = postgres.url_with_password.replace(PASSWORD, "Wr0ng-pass-XYZ")
    with pytest.raises(ConfigError) as caught:
        HistoryStore.open(wrong)
    text = str(caught.value)
    assert "cannot reach the history" in text and "Wr0ng-pass-XYZ" not in text
    assert f"dvcwatch:***@127.0.0.1:{postgres.port}" in text
    with HistoryStore.open(postgres.url_with_password) as store:
        assert PASSWORD not in store.location.shown and "***" in store.location.shown


def test_a_history_is_named_by_a_path_or_a_url(tmp_path: Path) -> None:
    from dvcwatch.core.history_store import parse_location

    assert parse_location(str(tmp_path)).path == tmp_path / "history.sqlite3"  # a folder: its file
    assert parse_location(f"sqlite://{tmp_path}/h.sqlite3").path == tmp_path / "h.sqlite3"
    assert parse_location("results/h.sqlite3").path == Path("results/h.sqlite3")
    pg = parse_location("postgresql://ward:pa%40ss@db.invalid:5432/dvc?sslmode=require")
    assert (pg.kind, pg.path) == ("postgresql", None)
    assert pg.shown == "postgresql://ward:***@db.invalid:5432/dvc?sslmode=require"
    assert parse_location("postgres://db.invalid/dvc?password=pw1&user=u").shown.count("pw1") == 0
    assert pg.scrub("FATAL: bad pa@ss") == "FATAL: bad ***"
    for bad, said in [
        ("mysql://u:hidden@db.invalid/x", "mysql:// history is not supported"),
        ("sqlite://relative.db", "three slashes"),
        ("postgresql:///dvc", "give a host"),
        ("  ", "empty"),
    ]:
        with pytest.raises(ConfigError, match=said) as caught:
            parse_location(bad)
        assert "hidden" not in str(caught.value)
