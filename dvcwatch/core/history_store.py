"""The leaders' record: every journey of every sweep, and every filed dossier until its result.

Prometheus keeps what alerting needs for a few weeks and only where a monitoring stack runs; a district
asks "is it getting better, and are dossiers answered on time?" over weeks, from a laptop. So `shop`
writes one row per journey into an SQLite file beside its results (`history.sqlite3`), `follow-up`
updates the dossiers it looks up, and `report` reads both. SQLite because it is one file, needs no
server and survives a killed writer (WAL, one transaction per sweep).

Times are ISO 8601 in UTC; a due date (ngày hẹn trả) is the portal's calendar date, `YYYY-MM-DD`.
This module is core: it knows rows, not journeys (`playwright_journeys.history` turns a sweep into rows).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dvcwatch.core.errors import ConfigError

FILE_NAME = "history.sqlite3"
SCHEMA_VERSION = 1

# A dossier is followed until one of these; "done" means the result is out (download or office).
FINAL_STATES = ("done", "refused", "withdrawn")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journeys (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    portal TEXT NOT NULL,
    environment TEXT NOT NULL,
    vantage TEXT NOT NULL,
    persona TEXT NOT NULL,
    service TEXT NOT NULL,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    verdict TEXT NOT NULL,
    failed_step TEXT,
    failure TEXT,
    submit_seconds REAL,
    duration_seconds REAL NOT NULL,
    steps TEXT NOT NULL,
    level_promised TEXT,
    level_delivered TEXT,
    dossier_code TEXT,
    due_date TEXT,
    result_mode TEXT,
    scorecard TEXT,
    screenshot TEXT,
    UNIQUE (at, portal, vantage, persona, service)
);
CREATE INDEX IF NOT EXISTS journeys_at ON journeys (at);
CREATE TABLE IF NOT EXISTS dossiers (
    portal TEXT NOT NULL,
    code TEXT NOT NULL,
    service TEXT NOT NULL,
    vantage TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    due_date TEXT,
    status TEXT,
    result_mode TEXT,
    result_at TEXT,
    checks INTEGER NOT NULL DEFAULT 0,
    last_checked_at TEXT,
    last_problem TEXT,
    PRIMARY KEY (portal, code)
);
"""


@dataclass(frozen=True)
class JourneyRow:
    """One journey as the report needs it; `steps` maps step name → seconds (steps that ran)."""

    at: str
    portal: str
    environment: str
    vantage: str
    persona: str
    service: str
    name_vi: str
    name_en: str
    verdict: str
    duration_seconds: float
    failed_step: str | None = None
    failure: str | None = None
    submit_seconds: float | None = None
    steps: dict[str, float] = field(default_factory=dict)
    level_promised: str | None = None
    level_delivered: str | None = None
    dossier_code: str | None = None
    due_date: str | None = None
    result_mode: str | None = None  # the journey itself got the result: "download" or "in_person"
    scorecard: str | None = None
    screenshot: str | None = None


@dataclass(frozen=True)
class DossierRow:
    portal: str
    code: str
    service: str
    vantage: str
    filed_at: str
    due_date: str | None
    status: str | None = None
    result_mode: str | None = None  # "download" (electronic copy) or "in_person" (at the office)
    result_at: str | None = None
    checks: int = 0
    last_checked_at: str | None = None
    last_problem: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES


def parse_due_date(text: str | None) -> str | None:
    """The appointment date as the portal prints it (dd/mm/yyyy, or ISO) → `YYYY-MM-DD`; else None."""
    if not text:
        return None
    raw = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw[:10], fmt).date().isoformat()
        except ValueError:
            continue
    return None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def due_end(due_date: str, tz: object) -> datetime:
    """A dossier due on a day may be answered until the end of that day, in the portal's time zone."""
    day = date.fromisoformat(due_date)
    return datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=1)  # type: ignore[arg-type]


class HistoryStore:
    """One SQLite file; open it with `HistoryStore.open(path)` and close it (or use `with`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> HistoryStore:
        p = Path(path)
        if p.is_dir():
            p = p / FILE_NAME
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(p, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            found = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"not a dvcwatch history file ({exc})", path=str(p)) from None
        except OSError as exc:
            raise ConfigError(f"cannot open the history ({exc.strerror or exc})", path=str(p)) from None
        if found != str(SCHEMA_VERSION):
            conn.close()
            raise ConfigError(f"history schema {found}, this dvcwatch reads {SCHEMA_VERSION}", path=str(p))
        conn.row_factory = sqlite3.Row
        return cls(conn, p)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def add_journeys(self, rows: Iterable[JourneyRow]) -> int:
        """Insert a sweep's rows in one transaction; a row already there (same sweep, re-imported) is
        left as it was. Each filed dossier starts being followed. Returns how many rows were new."""
        new = 0
        with self._transaction() as c:
            for r in rows:
                d = asdict(r)
                d["steps"] = json.dumps(r.steps, sort_keys=True)
                cur = c.execute(
                    f"INSERT OR IGNORE INTO journeys ({', '.join(d)}) VALUES ({', '.join('?' * len(d))})",
                    tuple(d.values()),
                )
                new += cur.rowcount
                if r.dossier_code:
                    done = "done" if r.result_mode else None
                    c.execute(
                        "INSERT OR IGNORE INTO dossiers (portal, code, service, vantage, filed_at, due_date, "
                        "status, result_mode, result_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            r.portal,
                            r.dossier_code,
                            r.service,
                            r.vantage,
                            r.at,
                            r.due_date,
                            done,
                            r.result_mode,
                            r.at if done else None,
                        ),
                    )
        return new

    def journeys(self, since: datetime | None = None, until: datetime | None = None) -> list[JourneyRow]:
        sql, args = "SELECT * FROM journeys WHERE 1=1", []
        if since is not None:
            sql += " AND at >= ?"
            args.append(iso(since))
        if until is not None:
            sql += " AND at < ?"
            args.append(iso(until))
        out = []
        for row in self.conn.execute(sql + " ORDER BY at, id", args):
            d = dict(row)
            d.pop("id")
            d["steps"] = json.loads(d["steps"])
            out.append(JourneyRow(**d))
        return out

    def dossiers(self, portal: str | None = None, *, open_only: bool = False) -> list[DossierRow]:
        sql, args = "SELECT * FROM dossiers WHERE 1=1", []
        if portal is not None:
            sql += " AND portal = ?"
            args.append(portal)
        if open_only:
            sql += f" AND (status IS NULL OR status NOT IN ({', '.join('?' * len(FINAL_STATES))}))"
            args.extend(FINAL_STATES)
        return [DossierRow(**dict(r)) for r in self.conn.execute(sql + " ORDER BY filed_at, code", args)]

    def record_check(
        self,
        portal: str,
        code: str,
        at: datetime,
        *,
        status: str | None,
        result_mode: str | None = None,
        problem: str | None = None,
        result_at: datetime | None = None,
    ) -> None:
        """One look at a dossier. The first look that finds it final sets `result_at`: the portal's
        own date for the result when it printed one, else `at`; a look that could not read the status
        (`status=None`, `problem` says why) keeps the last known one."""
        with self._transaction() as c:
            c.execute(
                "UPDATE dossiers SET checks = checks + 1, last_checked_at = ?, last_problem = ?, "
                "status = COALESCE(?, status), result_mode = COALESCE(?, result_mode), "
                "result_at = CASE WHEN result_at IS NULL AND ? IN ('done', 'refused', 'withdrawn') "
                "THEN ? ELSE result_at END WHERE portal = ? AND code = ?",
                (iso(at), problem, status, result_mode, status, iso(result_at or at), portal, code),
            )


PORTAL_TZ = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class DossierJudgement:
    """Where a dossier stands against its due date at `now`: `state` is one of on_time, late,
    open_past_due, open, answered_no_due (a result, but no date was promised); `by_seconds` how late
    (late) or how far past due (open_past_due)."""

    state: str
    by_seconds: float = 0.0
    at_office: bool = False


def judge(d: DossierRow, now: datetime, tz: object) -> DossierJudgement:
    office = d.result_mode == "in_person"
    end = due_end(d.due_date, tz) if d.due_date else None
    if d.result_at is not None and d.final:
        if end is None:
            return DossierJudgement("answered_no_due", at_office=office)
        late = (parse_iso(d.result_at) - end).total_seconds()
        return DossierJudgement("late", late, office) if late > 0 else DossierJudgement("on_time", 0, office)
    if end is not None and now > end:
        return DossierJudgement("open_past_due", (now - end).total_seconds(), office)
    return DossierJudgement("open", at_office=office)
