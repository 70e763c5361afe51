"""Identity like VNeID level 2: CCCD + password, then a 6-digit OTP "sent by SMS".

The synthetic citizens of `dvcwatch.core.identities.citizens(seed, n)` are pre-registered, so the harness
knows every password from the seed alone; accounts registered through `/dang-ky` are stored in
SQLite. Sessions, API tokens and OTP challenges live in memory: a restart logs everyone out, as a
real portal's redeploy would, but keeps their dossiers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from dvcwatch.core.identities import Citizen, citizens
from sandbox_portal.storage import AccountRow, Storage

TOKEN_TTL = 3600
MAX_LIVE = 50_000  # sessions, tokens and challenges kept; the oldest go first


@dataclass
class Person:
    cccd: str
    full_name: str
    phone: str
    email: str
    password_hash: str
    citizen: Citizen | None = None


@dataclass
class Challenge:
    id: str
    cccd: str
    otp: str
    service: str | None
    delivered: bool
    created: float


def _hash(password: str) -> str:
    # fast on purpose: load tests log in hundreds of times a second; this is a sandbox, not a vault
    return hashlib.sha256(password.encode()).hexdigest()


def masked_phone(phone: str) -> str:
    return phone[:2] + "*" * max(0, len(phone) - 4) + phone[-2:]


@lru_cache(maxsize=4)
def _citizens(seed: int, count: int) -> tuple[Citizen, ...]:
    return tuple(citizens(seed, count))


class _Bounded(OrderedDict):
    def put(self, key: str, value: object) -> None:
        self[key] = value
        if len(self) > MAX_LIVE:
            self.popitem(last=False)


class Accounts:
    def __init__(self, storage: Storage, seed: int, count: int) -> None:
        self.storage = storage
        self.people: dict[str, Person] = {}
        for c in _citizens(seed, count):
            self.people[c.cccd] = Person(c.cccd, c.full_name, c.phone, c.email, _hash(c.password), c)
        for a in storage.accounts.values():
            self.people.setdefault(a.cccd, Person(a.cccd, a.full_name, a.phone, a.email, a.password))
        self.challenges: _Bounded = _Bounded()
        self.latest_otp: dict[str, Challenge] = {}
        self.sessions: _Bounded = _Bounded()  # session id -> {"cccd": str|None, "challenge": str|None}
        self.tokens: _Bounded = _Bounded()  # api token -> (cccd, expiry)

    def check_password(self, cccd: str, password: str) -> Person | None:
        person = self.people.get(cccd.strip())
        if person and hmac.compare_digest(person.password_hash, _hash(password)):
            return person
        return None

    def register(self, cccd: str, full_name: str, phone: str, email: str, password: str) -> Person:
        row = AccountRow(cccd, full_name, phone, email, _hash(password), time.time())
        self.storage.add_account(row)
        person = Person(cccd, full_name, phone, email, row.password)
        self.people[cccd] = person
        return person

    def send_otp(self, person: Person, service: str | None, delivered: bool) -> Challenge:
        """Create a challenge; an undelivered OTP (fault otp_lost) exists but nobody can read it."""
        ch = Challenge(
            secrets.token_urlsafe(12),
            person.cccd,
            f"{secrets.randbelow(1_000_000):06d}",
            service,
            delivered,
            time.time(),
        )
        self.challenges.put(ch.id, ch)
        self.latest_otp[person.cccd] = ch
        return ch

    def verify_otp(self, challenge_id: str, otp: str) -> Challenge | None:
        ch = self.challenges.get(challenge_id)
        if ch is None or not hmac.compare_digest(ch.otp, otp.strip()):
            return None
        self.challenges.pop(challenge_id, None)
        return ch

    def readable_otp(self, cccd: str) -> str | None:
        ch = self.latest_otp.get(cccd)
        if ch is None or not ch.delivered or ch.id not in self.challenges:
            return None
        return ch.otp

    def issue_token(self, cccd: str) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens.put(token, (cccd, time.time() + TOKEN_TTL))
        return token

    def token_owner(self, token: str) -> str | None:
        entry = self.tokens.get(token)
        if not entry or entry[1] < time.time():
            return None
        return entry[0]

    def new_session(self) -> str:
        sid = secrets.token_urlsafe(18)
        self.sessions.put(sid, {"cccd": None, "challenge": None})
        return sid
