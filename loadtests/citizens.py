"""Citizens as Locust users: each task is one service's real sequence over the portal's HTTP API.

A visit opens the service's page, logs in (CCCD + password, then the OTP), fetches the e-form,
submits the dossier with the catalog's values and small real files, pays when the service charges
a fee, then tracks the dossier and asks for its result, pausing like a person between steps. The
mix of services follows the catalog's volume weights, so residence notices dominate as in the field.

Every request is named `<service>:<step>` with the shared step vocabulary, so Locust's table, the
gates and the Prometheus labels read as the portal's own steps. A failed step ends the visit (a
citizen cannot pay for a dossier the portal refused) and the user starts another one. What fails a
step is judged before the request is counted: a wrong status, no whole answer, a busy answer of any
kind (`loadtests.answer_trouble`), and an answer without what the next step needs (a login with no
challenge): each is a failed request with its reason, never an exception in the log.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any, ClassVar

import gevent
from gevent.lock import Semaphore
from locust import FastHttpUser, task
from locust.exception import RescheduleTask, StopUser
from requests_toolbelt import MultipartEncoder

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.catalog.models import Service
from dvcwatch.core.credentials import Account
from dvcwatch.core.formdata import fill, sample_file
from dvcwatch.core.identities import Citizen as Identity
from dvcwatch.core.identities import citizen
from dvcwatch.core.otp_sources import SIX_DIGITS, code_in
from dvcwatch.core.profile import fill_in
from dvcwatch.core.steps import STEPS
from loadtests import sending
from loadtests.answer_trouble import NOT_JSON, kind_of, parse_json
from loadtests.context import run_context
from loadtests.profile import Range

STEP_NAMES = frozenset(STEPS)
BANKS = ("vcb", "bidv", "vietinbank", "agribank", "momo")
OTP_INBOX = "_harness:otp_inbox"
# Per-process numbering of users; with the worker index it gives each user its own citizen while
# there are more citizens than users. Beyond that, users of one login take turns to log in, so
# none of them reads an OTP that was sent to another.
_user_numbers = itertools.count()
login_turns: defaultdict[str, Semaphore] = defaultdict(Semaphore)
# What a JSON answer must hold for the visit to go on: its reason for failing, or None.
Needs = Callable[[Any], str | None]


def keys(*names: str) -> Needs:
    """An answer that is a JSON object with each of `names`."""

    def missing(data: Any) -> str | None:
        if not isinstance(data, dict):
            return "the answer is not a JSON object"
        absent = [n for n in names if n not in data]
        return f"the answer has no {', '.join(absent)}" if absent else None

    return missing


# made once: a request does not pay for building its check
HAS_CHALLENGE, HAS_TOKEN, HAS_CODE = keys("challenge"), keys("token"), keys("code")


def _dossier(data: Any) -> str | None:
    """A filed dossier's code, and its payment (null, or the transaction to pay)."""
    missing = HAS_CODE(data)
    if missing:
        return missing
    payment = data.get("payment")
    if payment and not (isinstance(payment, dict) and "txn" in payment):
        return "the answer's payment has no txn"
    return None


def task_weights(services: list[Service]) -> dict[str, int]:
    """Per-mille of the field's yearly volume, at least 1 so no service is never visited."""
    total = sum(s.volume.weight for s in services)
    return {s.id: max(1, round(1000 * s.volume.weight / total)) for s in services}


class PortalUser(FastHttpUser):
    """The HTTP steps of a citizen's visit; subclasses choose which services they visit."""

    abstract = True
    surge: ClassVar[bool] = False
    network_timeout = 10.0
    connection_timeout = 10.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        ctx = run_context(environment)
        self.catalog = load_catalog()
        self.think_times = ctx.profile.think
        self.target = ctx.target
        self.paths = ctx.target.paths
        otp = ctx.target.otp
        self.otp_url = otp.url or ""
        # the sandbox answers {"otp": "123456"}; an SMS forwarder as the profile describes it
        self.otp_regex = otp.regex or SIX_DIGITS
        self.otp_field = "otp" if otp.source == "sandbox" else otp.json_field
        self.otp_headers = ctx.otp_headers
        runner = environment.runner
        stride = max(1, ctx.expected_workers)
        offset = max(0, getattr(runner, "worker_index", 0) or 0)
        ids = ctx.target.identities
        number = next(_user_numbers) * stride + offset
        self.citizen_index = number % ids.count
        self.identity: Identity = citizen(ids.seed, self.citizen_index)
        # the profile's test accounts, when it has them, shared out in turn; else the synthetic citizen
        self.account: Account | None = ctx.accounts[number % len(ctx.accounts)] if ctx.accounts else None
        self.api = self.paths.api_base.rstrip("/")
        self.trouble = ctx.trouble
        self.max_answer = int(ctx.profile.max_answer_mb * 1_000_000)
        # requests go out through this user's own agent and are reported here (loadtests.sending)
        self._agent = self.client.client
        self._request_event = environment.events.request

    def on_start(self) -> None:
        """A host the allow-list refused (hooks.refused_host) gets not one request."""
        if getattr(self.environment, "dvc_refused", None):
            raise StopUser()

    def wait_time(self) -> float:
        return self._draw(self.think_times.between_visits)

    # -- the visit, step by step -------------------------------------------------------------------

    def visit(self, service_id: str) -> None:
        svc = self.catalog.service(service_id)
        self.find_service(svc)
        self.pause(self.think_times.between_steps)
        token = self.log_in(svc)
        auth = {"Authorization": f"Bearer {token}"}
        self.pause(self.think_times.between_steps)
        self.fetch_form(svc, auth)
        self.pause(self.think_times.filling_form)
        dossier = self.submit(svc, auth)
        payment = dossier.get("payment")
        if payment:
            self.pause(self.think_times.between_steps)
            self.pay(svc, payment["txn"], auth)
        self.pause(self.think_times.between_steps)
        self.track(svc, dossier["code"], auth)
        self.fetch_result(svc, dossier["code"], auth)

    def find_service(self, svc: Service) -> None:
        path = fill_in(self.paths.service, {"service": svc.id, "code": self.target.code_of(svc)})
        self.call("GET", path, svc.id, "find_service", expect=(200,), parse=False)

    def login(self) -> tuple[str, str, str]:
        """(username, password, account name): the profile's account, else the synthetic citizen's."""
        if self.account is not None:
            return self.account.username, self.account.password.reveal(), self.account.name
        return self.identity.cccd, self.identity.password, ""

    def log_in(self, svc: Service) -> str:
        username, password, _ = self.login()
        body = {"cccd": username, "password": password, "service": svc.id}
        with login_turns[username]:
            challenge = self.call(
                "POST", f"{self.api}/auth/login", svc.id, "login", json_body=body, needs=HAS_CHALLENGE
            )["challenge"]
            otp = self.read_otp()
            answer = self.call(
                "POST",
                f"{self.api}/auth/otp",
                svc.id,
                "otp",
                json_body={"challenge": challenge, "otp": otp},
                needs=HAS_TOKEN,
            )
        return answer["token"]

    def read_otp(self) -> str:
        """The code just sent to this user's login, from the profile's HTTP OTP source (the sandbox's
        inbox, a test SMS gateway): a harness request, named apart from the portal's steps."""
        username, _, account = self.login()
        phone = "" if account else self.identity.phone
        url = self.otp_url.format(cccd=username, phone=phone, account=account)
        return self.call(
            "GET",
            url,
            "",
            "",
            name=OTP_INBOX,
            headers=self.otp_headers,
            parse=lambda text: code_in(text, "", self.otp_regex, self.otp_field),
        )

    def fetch_form(self, svc: Service, auth: dict[str, str]) -> None:
        self.call("GET", f"{self.api}/services/{svc.id}/form", svc.id, "form", headers=auth)

    def submit(self, svc: Service, auth: dict[str, str]) -> dict[str, Any]:
        fields = fill(self.catalog, svc, self.identity)
        parts: dict[str, Any] = {
            "data": json.dumps({"service": svc.id, "fields": fields}, ensure_ascii=False)
        }
        for doc in svc.documents:
            filename, ctype, content = sample_file(doc.id, list(doc.types))
            parts[doc.id] = (filename, content, ctype)
        encoder = MultipartEncoder(fields=parts)
        headers = {**auth, "Content-Type": encoder.content_type}
        return self.call(
            "POST",
            f"{self.api}/dossiers",
            svc.id,
            "submit",
            data=encoder.to_string(),
            headers=headers,
            expect=(201,),
            needs=_dossier,
        )

    def pay(self, svc: Service, txn: str, auth: dict[str, str]) -> None:
        body = {"bank": random.choice(BANKS)}
        self.call(
            "POST", f"{self.api}/payments/{txn}/confirm", svc.id, "payment", json_body=body, headers=auth
        )

    def track(self, svc: Service, code: str, auth: dict[str, str]) -> None:
        self.call("GET", f"{self.api}/dossiers/{code}", svc.id, "tracking", headers=auth)

    def fetch_result(self, svc: Service, code: str, auth: dict[str, str]) -> None:
        """409 is an answer, not a failure: the result is still processing, or collected in person."""
        self.call(
            "GET",
            f"{self.api}/dossiers/{code}/result",
            svc.id,
            "result",
            headers=auth,
            expect=(200, 409),
            parse=False,
        )

    # -- one request -------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        service: str,
        step: str,
        *,
        name: str | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        parse: bool | Callable[[str], Any] = True,
        needs: Needs | None = None,
    ) -> Any:
        """One named request; a wrong status, a soft failure, unreadable JSON or an answer without
        what `needs` asks fails it and ends the visit (RescheduleTask), so later steps are never
        counted against a broken one."""
        if name is None and step not in STEP_NAMES:
            raise ValueError(f"{step!r} is not in the step vocabulary (dvcwatch.core.steps)")
        label = name or f"{service}:{step}"
        sent_headers = dict(headers) if headers else {}
        body = data
        if json_body is not None and not data:  # as FastHttpSession's json= does
            body = json.dumps(json_body).encode()
            if "Content-Type" not in sent_headers and "content-type" not in sent_headers:
                sent_headers["Content-Type"] = "application/json"
            if "Accept" not in sent_headers and "accept" not in sent_headers:
                sent_headers["Accept"] = "application/json"
        url = path if path.startswith(("http://", "https://")) else f"{self.client.base_url or ''}{path}"
        sent = sending.send(self._agent, method, url, body, sent_headers, self.max_answer)
        reason, value = self._judge(sent, expect, parse, needs)
        sending.report(self._request_event, sent, label, self.context(), reason)
        if reason is not None:
            raise RescheduleTask()
        return value

    def _judge(
        self,
        sent: sending.Sent,
        expect: tuple[int, ...],
        parse: bool | Callable[[str], Any],
        needs: Needs | None,
    ) -> tuple[str | None, Any]:
        """(why the request failed or None, what the answer gives the visit). Every answer, whatever
        its kind, is looked at for trouble before the step is given what it asked for."""
        if sent.error is not None:
            return sent.no_answer(), None
        if sent.status not in expect:  # an expected 409 is an answer
            return f"HTTP {sent.status}", None
        body = sent.body
        headers = sent.response.headers
        kind = kind_of(headers.get("content-type") if headers is not None else None, body)
        data = parse_json(body) if kind == "json" and body else NOT_JSON
        trouble = self.trouble.of_kind(kind, body, data)
        if trouble:
            return f"soft failure: {trouble}", None
        if not parse:
            return None, None
        if callable(parse):  # what the answer must hold; nothing is a failed request
            value = parse(sent.response.text or "")
            return ("the answer holds nothing usable", None) if value is None else (None, value)
        if data is NOT_JSON:
            data = parse_json(body)  # sent as another kind, and JSON all the same
            if data is NOT_JSON:
                return "the answer is not JSON", None
        missing = needs(data) if needs is not None else None
        return (missing, None) if missing else (None, data)

    def pause(self, r: Range) -> None:
        seconds = self._draw(r)
        if seconds > 0:
            self._sleep(seconds)

    def _sleep(self, seconds: float) -> None:
        gevent.sleep(seconds)

    @staticmethod
    def _draw(r: Range) -> float:
        return random.uniform(r.min, r.max) if r.max > r.min else r.min


def _visit_task(service_id: str) -> Any:
    def visit(user: PortalUser) -> None:
        user.visit(service_id)

    visit.__name__ = f"visit_{service_id.replace('-', '_')}"
    visit.__doc__ = f"one citizen's visit to {service_id}"
    return visit


class Citizen(PortalUser):
    """The field's mix: one task per service, weighted by the catalog's yearly volumes."""

    weight = 1000
    tasks = {_visit_task(sid): w for sid, w in task_weights(list(load_catalog().services)).items()}


class SurgeCitizen(PortalUser):
    """Citizens of the deadline's service only; the deadline-surge shape adds them during the surge.
    Which service is set from the profile when the run starts (`configure_surge`)."""

    surge = True
    weight = 1
    surge_service: ClassVar[str] = ""

    @task
    def visit_surging_service(self) -> None:
        if not self.surge_service:
            raise RescheduleTask()
        self.visit(self.surge_service)


def configure_surge(service_id: str, surge_users: int, normal_users: int) -> None:
    """Weights so that Locust splits a surge stage's users exactly as the shape intended."""
    SurgeCitizen.surge_service = service_id
    Citizen.weight = max(1, normal_users)
    SurgeCitizen.weight = max(1, surge_users)
