"""The leaders' record: every journey of every sweep, and every filed dossier until its result.

Prometheus keeps what alerting needs for a few weeks and only where a monitoring stack runs; a district
asks "is it getting better, and are dossiers answered on time?" over weeks, from a laptop. So `shop`
writes one row per journey into the history, `follow-up` updates the dossiers it looks up, and `report`
reads both. One runner's history is an SQLite file beside its results (`history.sqlite3`): one file,
no server, and it survives a killed writer (WAL, one transaction per sweep). Several runners share one
PostgreSQL (`postgresql://…`, `dvcwatch.core.history_db`): same tables, same rows, same answers.

Each journey has its own identity (`journey_id`, from its results.json): two sweeps of the same services
started in the same second are two sets of rows, and importing one results.json twice adds nothing.
A history written before journey ids (schema 1) is migrated in place, its rows kept under ids made of
what identified them then. The tables are created and migrated by the tool, the version kept in `meta`.
`report` opens the history read-only; neither it nor `shop` puts dvcwatch tables
into another application's database.

Times are ISO 8601 in UTC; a due date (ngày hẹn trả) is the portal's calendar date, `YYYY-MM-DD`.
This module is core: it knows rows, not journeys (`playwright_journeys.history` turns a sweep into rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dvcwatch.core import history_db
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.history_db import (
    Backend,
    HistoryLocation,
    PostgresBackend,
    SqliteBackend,
    connect,
    database_errors,
    parse_location,
)

FILE_NAME = history_db.FILE_NAME
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
    """One history, an SQLite file or a PostgreSQL database; open it with `HistoryStore.open(where)` and
    close it (or use `with`)."""

    def __init__(self, db: Backend) -> None:
        self.db = db
        self.location = db.location
        self.path = db.location.path  # the SQLite file; None for PostgreSQL (print `location.shown`)

    @classmethod
    def open(cls, where: str | Path | HistoryLocation, *, readonly: bool = False) -> HistoryStore:
        """The history at `where`: a path (a folder: its history.sqlite3), `sqlite:///path` or
        `postgresql://…`. Writing, a missing or empty database gets the tables and an older schema is
        migrated; `readonly` (the report) changes nothing and refuses a database without a history.
        Either way another application's database is refused, untouched."""
        location = parse_location(where)
        shown = location.shown
        errors = database_errors()
        try:
            db = connect(location, readonly)
        except OSError as exc:
            raise ConfigError(f"cannot open the history ({exc.strerror or exc})", path=shown) from None
        except errors as exc:
            raise ConfigError(f"not a dvcwatch history ({location.scrub(str(exc))})", path=shown) from None
        try:
            _check_ours(db, readonly)
        except errors as exc:
            db.close()
            raise ConfigError(f"not a dvcwatch history ({location.scrub(str(exc))})", path=shown) from None
        except BaseException:
            db.close()
            raise
        return cls(db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_journeys(self, rows: Iterable[JourneyRow]) -> int:
        """Insert a sweep's rows in one transaction; a row already there (same sweep, re-imported) is
        left as it was. Each filed dossier starts being followed. Returns how many rows were new."""
        rows = list(rows)  # a retried transaction goes over them again

        def insert(c: Backend) -> int:
            new = 0
            for r in rows:
                d = asdict(r)
                d["steps"] = json.dumps(r.steps, sort_keys=True)
                cur = c.execute(
                    f"INSERT INTO journeys ({', '.join(d)}) VALUES ({', '.join('?' * len(d))}) "
                    "ON CONFLICT DO NOTHING",
                    tuple(d.values()),
                )
                new += cur.rowcount
                if r.dossier_code:
                    done = "done" if r.result_mode else None
                    c.execute(
                        "INSERT INTO dossiers (portal, code, service, vantage, filed_at, due_date, "
                        "status, result_mode, result_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT DO NOTHING",
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

        return self.db.write(insert)

    def journeys(self, since: datetime | None = None, until: datetime | None = None) -> list[JourneyRow]:
        sql, args = "SELECT * FROM journeys WHERE 1=1", []
        if since is not None:
            sql += " AND at >= ?"
            args.append(iso(since))
        if until is not None:
            sql += " AND at < ?"
            args.append(iso(until))
        out = []
        for row in self.db.execute(sql + " ORDER BY at, id", args):
            d = dict(row)
            d.pop("id")
            d["steps"] = json.loads(d["steps"])
            out.append(JourneyRow(**d))
        return out

    def portals(self) -> list[str]:
        """Every portal that has journeys in the history, by name."""
        return [
            dict(r)["portal"] for r in self.db.execute("SELECT DISTINCT portal FROM journeys ORDER BY portal")
        ]

    def dossiers(self, portal: str | None = None, *, open_only: bool = False) -> list[DossierRow]:
        sql, args = "SELECT * FROM dossiers WHERE 1=1", []
        if portal is not None:
            sql += " AND portal = ?"
            args.append(portal)
        if open_only:
            sql += f" AND (status IS NULL OR status NOT IN ({', '.join('?' * len(FINAL_STATES))}))"
            args.extend(FINAL_STATES)
        return [DossierRow(**dict(r)) for r in self.db.execute(sql + " ORDER BY filed_at, code", args)]

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
        self.db.write(
            lambda c: c.execute(
                "UPDATE dossiers SET checks = checks + 1, last_checked_at = ?, last_problem = ?, "
                "status = COALESCE(?, status), result_mode = COALESCE(?, result_mode), "
                "result_at = CASE WHEN result_at IS NULL AND ? IN ('done', 'refused', 'withdrawn') "
                "THEN ? ELSE result_at END WHERE portal = ? AND code = ?",
                (iso(at), problem, status, result_mode, status, iso(result_at or at), portal, code),
            )
        )


def _schema(db: Backend) -> str:
    """The one schema in each database's words: PostgreSQL's REAL is single precision, and its row ids
    come from an identity column."""
    if db.kind != "postgresql":
        return SCHEMA
    return SCHEMA.replace(
        "id INTEGER PRIMARY KEY", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    ).replace(" REAL", " DOUBLE PRECISION")


def _version(db: Backend) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return dict(row)["value"] if row else None


def _check_ours(db: Backend, readonly: bool) -> None:
    """Refuse a database that holds other tables than ours; create, or migrate, only when writing."""
    found = _refuse_foreign_tables(db)
    if readonly:
        if found is None:
            raise ConfigError("an empty database, no dvcwatch history in it yet", path=db.location.shown)
    elif found != str(SCHEMA_VERSION):
        if isinstance(db, SqliteBackend):
            db.wal()
        found = db.write(_create_or_migrate)
    if found not in (str(SCHEMA_VERSION), "1"):
        raise ConfigError(
            f"history schema {found}, this dvcwatch reads {SCHEMA_VERSION}", path=db.location.shown
        )


def _refuse_foreign_tables(db: Backend) -> str | None:
    """The schema version found (None: no history yet); another application's tables are refused."""
    tables = db.tables()
    foreign = sorted(tables - OUR_TABLES)
    found = _version(db) if "meta" in tables else None
    if foreign or (tables and found is None):
        shown = ", ".join(foreign[:5]) or ", ".join(sorted(tables))
        raise ConfigError(
            f"not a dvcwatch history: another application's database (tables {shown}); "
            "give a new file or database, or a history that `dvcwatch shop` wrote",
            path=db.location.shown,
        )
    return found


def _create_or_migrate(db: Backend) -> str:
    """Inside one write transaction, so that of several runners starting at once one creates the
    tables and the others find them (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE)."""
    if isinstance(db, PostgresBackend):
        db.schema_lock()
    found = _refuse_foreign_tables(db)
    if found is None:
        for statement in _schema(db).split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        return str(SCHEMA_VERSION)
    if found == "1":
        columns = ", ".join(f.name for f in fields(JourneyRow) if f.name != "journey_id")
        for statement in MIGRATE_1_TO_2.format(schema=_schema(db), columns=columns).split(";"):
            if statement.strip():
                db.execute(statement)
        return str(SCHEMA_VERSION)
    return found


def refuse_foreign(where: str | Path | HistoryLocation) -> None:
    """Before a sweep: a history that is another application's database is refused (ConfigError)
    while nothing has run yet; a missing or empty one, or ours, is fine, and so is one that cannot be
    reached now (said after the sweep, when the history is written)."""
    location = parse_location(where)
    path = location.path
    if path is not None:
        try:
            if not path.is_file() or path.stat().st_size == 0:
                return
        except OSError:
            return
    try:
        HistoryStore.open(location, readonly=True).close()
    except ConfigError as exc:
        if "another application" in exc.detail or "history schema" in exc.detail:
            raise
        if path is not None and "empty database" not in exc.detail:
            raise


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
