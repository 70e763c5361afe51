"""Everything a request handler may need, built once at start-up (no per-request file reads)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from aiohttp import web

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.catalog.models import Catalog, FormField, Service
from sandbox_portal.accounts import Accounts
from sandbox_portal.clock import SandboxClock
from sandbox_portal.faults.engine import FaultSet
from sandbox_portal.faults.loading import load_faults_file
from sandbox_portal.faults.model import FaultFile, FaultSpec
from sandbox_portal.options import SandboxOptions
from sandbox_portal.storage import Storage

MAX_DRAFTS = 20_000


@dataclass
class Draft:
    """An e-form in progress (HTML flow): kept in memory; only submitted dossiers are stored."""

    id: str
    service: str
    cccd: str
    fields: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)  # document id -> file name
    payment_txn: str | None = None
    payment_status: str | None = None  # None | pending | paid | failed
    submitted_code: str | None = None


class PortalState:
    def __init__(self, opts: SandboxOptions) -> None:
        self.opts = opts
        self.catalog: Catalog = load_catalog()
        self.services: dict[str, Service] = {s.id: s for s in self.catalog.services}
        self.fields: dict[str, list[FormField]] = {
            s.id: self.catalog.all_fields(s) for s in self.catalog.services
        }
        self.agencies = {a.id: a for a in self.catalog.agencies}
        doc = load_faults_file(opts.faults_path) if opts.faults_path else FaultFile()
        speed = opts.clock_speed or doc.clock_speed or 1.0
        self.clock = SandboxClock(speed)
        self.backoffice = opts.backoffice or doc.backoffice or "fast"  # read at start, like the speed
        self.faults = FaultSet(self.clock)
        self.faults.replace(doc)
        if opts.capacity_workers or opts.service_time:
            self.faults.add(
                FaultFile(
                    faults=[
                        FaultSpec(
                            kind="capacity",
                            workers=opts.capacity_workers,
                            service_time=opts.service_time,
                            queue=opts.capacity_queue,
                        )
                    ]
                )
            )
        self.storage = Storage(opts.db_path)
        self.accounts = Accounts(self.storage, opts.seed, opts.citizens)
        self.drafts: OrderedDict[str, Draft] = OrderedDict()
        self.admin_token = opts.admin_token
        self.gateway_secret = secrets.token_bytes(32)

    def new_draft(self, service: str, cccd: str) -> Draft:
        d = Draft(secrets.token_urlsafe(9), service, cccd)
        self.drafts[d.id] = d
        if len(self.drafts) > MAX_DRAFTS:
            self.drafts.popitem(last=False)
        return d

    def sign(self, txn: str, status: str) -> str:
        """HMAC of a payment result: the portal trusts a callback only with the gateway's signature."""
        return hmac.new(self.gateway_secret, f"{txn}|{status}".encode(), hashlib.sha256).hexdigest()

    def signature_ok(self, txn: str, status: str, sig: str) -> bool:
        return hmac.compare_digest(self.sign(txn, status), sig)

    def close(self) -> None:
        self.storage.close()


STATE_KEY = web.AppKey("state", PortalState)
# Per-request storage set by the session middleware.
USER_KEY = web.RequestKey("user", object)
SESSION_KEY = web.RequestKey("session", dict)
SESSION_ID_KEY = web.RequestKey("session_id", str)
