"""The leaders' record: every journey of every sweep, and every filed dossier until its result.

Prometheus keeps what alerting needs for a few weeks and only where a monitoring stack runs; a district
asks "is it getting better, and are dossiers answered on time?" over weeks, from a laptop. So `shop`
writes one row per journey into an SQLite file beside its results (`history.sqlite3`), `follow-up`
updates the dossiers it looks up, and `report` reads both. SQLite because it is one file, needs no
server and survives a killed writer (WAL, one transaction per sweep).

Each journey has its own identity (`journey_id`, from its results.json): two sweeps of the same services
started in the same second are two sets of rows, and importing one results.json twice adds nothing.
A history written before journey ids (schema 1) is migrated in place, its rows kept under ids made of
what identified them then. `report` opens the file read-only; neither it nor `shop` puts dvcwatch tables
into another application's database.

Times are ISO 8601 in UTC; a due date (ngày hẹn trả) is the portal's calendar date, `YYYY-MM-DD`.
This module is core: it knows rows, not journeys (`playwright_journeys.history` turns a sweep into rows).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dvcwatch.core.errors import ConfigError

FILE_NAME = "history.sqlite3"
SCHEMA_VERSION = 2
OUR_TABLES = frozenset({"meta", "journeys", "dossiers"})

# A dossier is followed until one of these; "done" means the result is out (download or office).
FINAL_STATES = ("done", "refused", "withdrawn")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journeys (
    id INTEGER PRIMARY KEY,
    journey_id TEXT NOT NULL UNIQUE,
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
    screenshot TEXT
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
    journey_id: str = ""  # the journey's own id; empty: made from what identified a row in schema 1

    def __post_init__(self) -> None:
        if not self.journey_id:
            object.__setattr__(
                self,
                "journey_id",
                legacy_journey_id(self.at, self.portal, self.vantage, self.persona, self.service),
            )


def legacy_journey_id(at: str, portal: str, vantage: str, persona: str, service: str) -> str:
    """A journey recorded before journeys had ids (an old results.json, a schema 1 history): what
    identified its row then, so importing it again still adds nothing."""
    return f"legacy:{at}|{portal}|{vantage}|{persona}|{service}"


# schema 1 → 2: the journeys table's UNIQUE (at, portal, vantage, persona, service) lost one of two sweeps
# started in the same second; SQLite cannot drop a constraint, so the table is rebuilt, rows kept
MIGRATE_1_TO_2 = """
ALTER TABLE journeys RENAME TO journeys_v1;
DROP INDEX IF EXISTS journeys_at;
{schema}
INSERT INTO journeys (id, journey_id, {columns})
    SELECT id, 'legacy:' || at || '|' || portal || '|' || vantage || '|' || persona || '|' || service, {columns}
    FROM journeys_v1;
DROP TABLE journeys_v1;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
"""


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
    def open(cls, path: str | Path, *, readonly: bool = False) -> HistoryStore:
        """The history at `path` (a folder: its history.sqlite3). Writing, a missing or empty file gets
        the tables and a schema 1 file is migrated; `readonly` (the report) changes nothing and refuses
        a file without a history. Either way another application's database is refused, untouched."""
        p = Path(path)
        if p.is_dir():
            p = p / FILE_NAME
        try:
            conn = _connect(p, readonly)
        except OSError as exc:
            raise ConfigError(f"cannot open the history ({exc.strerror or exc})", path=str(p)) from None
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"not a dvcwatch history file ({exc})", path=str(p)) from None
        try:
            _check_ours(conn, p, readonly)
        except BaseException:
            conn.close()
            raise
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


def _connect(p: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        if not p.is_file():
            raise ConfigError(
                "no history here yet: run `dvcwatch shop` or `dvcwatch report import`", path=str(p)
            )
        return sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=30, isolation_level=None)
    p.parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(p, timeout=30, isolation_level=None)


def _check_ours(conn: sqlite3.Connection, p: Path, readonly: bool) -> None:
    """Refuse a database that holds other tables than ours; create, or migrate, only when writing."""
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        foreign = sorted(t for t in tables - OUR_TABLES if not t.startswith("sqlite_"))
        found = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            found = row[0] if row else None
        if foreign or (tables and found is None):
            shown = ", ".join(foreign[:5]) or ", ".join(sorted(tables))
            raise ConfigError(
                f"not a dvcwatch history: another application's database (tables {shown}); "
                "give a new file or a history that `dvcwatch shop` wrote",
                path=str(p),
            )
        if readonly:
            if found is None:
                raise ConfigError("an empty database, no dvcwatch history in it yet", path=str(p))
        elif found is None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(
                f"BEGIN IMMEDIATE; {SCHEMA} "
                f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
            )
            found = str(SCHEMA_VERSION)
        elif found == "1":
            conn.execute("PRAGMA journal_mode=WAL")
            _migrate_1_to_2(conn)
            found = str(SCHEMA_VERSION)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"not a dvcwatch history file ({exc})", path=str(p)) from None
    if found not in (str(SCHEMA_VERSION), "1"):
        raise ConfigError(f"history schema {found}, this dvcwatch reads {SCHEMA_VERSION}", path=str(p))


def refuse_foreign(path: Path) -> None:
    """Before a sweep: a history file that is another application's database is refused (ConfigError)
    while nothing has run yet; a missing or empty file, or ours, is fine."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return
    except OSError:
        return  # said after the sweep, when the history is written
    try:
        HistoryStore.open(path, readonly=True).close()
    except ConfigError as exc:
        if "empty database" not in exc.detail:
            raise


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    columns = [f.name for f in fields(JourneyRow) if f.name != "journey_id"]
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1":
            for statement in MIGRATE_1_TO_2.format(schema=SCHEMA, columns=", ".join(columns)).split(";"):
                if statement.strip():
                    conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


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
