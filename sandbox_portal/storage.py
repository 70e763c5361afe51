"""SQLite storage for what must outlive the process: accounts, dossiers and payments.

Reads are served from in-memory indexes loaded at start (the load tests and the prober hit the
tracking pages thousands of times a second); every change is written through to SQLite at once, in
WAL mode, so a dossier submitted before a restart can still be tracked after it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    cccd TEXT PRIMARY KEY, full_name TEXT NOT NULL, phone TEXT NOT NULL, email TEXT NOT NULL,
    password TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dossiers (
    seq INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL, service TEXT NOT NULL, cccd TEXT NOT NULL,
    fields TEXT NOT NULL, documents TEXT NOT NULL, created_at REAL NOT NULL, received_at REAL,
    expected_date TEXT NOT NULL, payment_txn TEXT, payment_offline INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS payments (
    txn TEXT PRIMARY KEY, service TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL,
    bank TEXT, dossier_code TEXT, draft_id TEXT, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dossiers_service ON dossiers(service);
"""


@dataclass
class DossierRow:
    seq: int
    code: str
    service: str
    cccd: str
    created_at: float
    received_at: float | None
    expected_date: str
    payment_txn: str | None = None
    payment_offline: bool = False
    documents: list[str] = field(default_factory=list)


@dataclass
class PaymentRow:
    txn: str
    service: str
    amount: int
    status: str  # pending | paid | failed
    created_at: float
    bank: str | None = None
    dossier_code: str | None = None
    draft_id: str | None = None


@dataclass
class AccountRow:
    cccd: str
    full_name: str
    phone: str
    email: str
    password: str
    created_at: float


class Storage:
    """One SQLite file; `path=None` keeps everything in memory (tests that do not restart)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = str(path) if path else ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self.dossiers: dict[str, DossierRow] = {}
        self.payments: dict[str, PaymentRow] = {}
        self.accounts: dict[str, AccountRow] = {}
        self._load()

    def _load(self) -> None:
        cur = self._db.execute(
            "SELECT seq, code, service, cccd, created_at, received_at, expected_date, payment_txn,"
            " payment_offline, documents FROM dossiers"
        )
        for row in cur:
            self.dossiers[row[1]] = DossierRow(*row[:8], bool(row[8]), json.loads(row[9]))
        cur = self._db.execute(
            "SELECT txn, service, amount, status, created_at, bank, dossier_code, draft_id FROM payments"
        )
        for row in cur:
            self.payments[row[0]] = PaymentRow(*row)
        for row in self._db.execute(
            "SELECT cccd, full_name, phone, email, password, created_at FROM accounts"
        ):
            self.accounts[row[0]] = AccountRow(*row)
        self._last_seq = max((d.seq for d in self.dossiers.values()), default=0)

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def next_seq(self) -> int:
        """The next dossier number; the event loop is the only writer, so a counter suffices."""
        self._last_seq += 1
        return self._last_seq

    def add_dossier(self, row: DossierRow, fields: dict[str, str]) -> None:
        self._write(
            "INSERT INTO dossiers (seq, code, service, cccd, fields, documents, created_at, received_at,"
            " expected_date, payment_txn, payment_offline) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.seq,
                row.code,
                row.service,
                row.cccd,
                json.dumps(fields, ensure_ascii=False),
                json.dumps(row.documents),
                row.created_at,
                row.received_at,
                row.expected_date,
                row.payment_txn,
                int(row.payment_offline),
            ),
        )
        self.dossiers[row.code] = row

    def mark_received(self, code: str, at: float) -> None:
        self._write("UPDATE dossiers SET received_at = ? WHERE code = ?", (at, code))
        self.dossiers[code].received_at = at

    def dossier_fields(self, code: str) -> dict[str, str]:
        with self._lock:
            row = self._db.execute("SELECT fields FROM dossiers WHERE code = ?", (code,)).fetchone()
        return json.loads(row[0]) if row else {}

    def add_payment(self, row: PaymentRow) -> None:
        self._write(
            "INSERT INTO payments (txn, service, amount, status, bank, dossier_code, draft_id, created_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (
                row.txn,
                row.service,
                row.amount,
                row.status,
                row.bank,
                row.dossier_code,
                row.draft_id,
                row.created_at,
            ),
        )
        self.payments[row.txn] = row

    def settle_payment(self, txn: str, status: str, bank: str) -> None:
        self._write("UPDATE payments SET status = ?, bank = ? WHERE txn = ?", (status, bank, txn))
        p = self.payments[txn]
        p.status, p.bank = status, bank

    def link_payment(self, txn: str, dossier_code: str) -> None:
        self._write("UPDATE payments SET dossier_code = ? WHERE txn = ?", (dossier_code, txn))
        self.payments[txn].dossier_code = dossier_code

    def add_account(self, row: AccountRow) -> None:
        self._write(
            "INSERT INTO accounts (cccd, full_name, phone, email, password, created_at) VALUES (?,?,?,?,?,?)",
            (row.cccd, row.full_name, row.phone, row.email, row.password, row.created_at),
        )
        self.accounts[row.cccd] = row

    def close(self) -> None:
        with self._lock:
            self._db.close()
