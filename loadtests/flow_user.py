"""Citizens that replay recorded flows (`--flows DIR`): any portal, not only the sandbox's JSON API.

Each visit picks a service in the catalog's volume mix (among those with a flow) and drives the core's
sans-IO `Replay` with this user's FastHttpUser client: its own cookie jar (sessions are cookies),
redirects not followed (the flow recorded each 302 and what its `Location` gives later requests), no
cookie kept from one visit to the next (each recording started logged out), the
recorded pauses, capped by the load profile's longest pause so a slow recording does not thin the load.

Every request is named `<service>:<step> <label>`: the part before the space is what the built-in
citizens' names are (`loadtests.counts.split_name`), so the step classes, gates, knee, timeline, metrics
and report read a flow run exactly as they read theirs, while Locust's table still shows each request.
Each user logs in as its own identity: the profile's account pool when it has one, else a synthetic
citizen; logins of one account take turns until the code is read, so none reads another's code.
A request may go only to the portal (--host) or to one of the profile's `origins` (`loadtests.origins`):
any other is refused before it is sent, counted as a failed request, and ends the visit.
"""

from __future__ import annotations

import random
from typing import Any

import gevent
from locust import task
from locust.exception import RescheduleTask, StopUser

from dvcwatch.core.credentials import Secret
from dvcwatch.core.flows import Answer, Bindings, Flow, Prepared, Replay
from dvcwatch.core.flows.replay import citizen_values
from loadtests import sending
from loadtests.citizens import PortalUser, login_turns, task_weights
from loadtests.context import run_context
from loadtests.origins import Origins

AUTH_STEPS = frozenset({"login", "otp"})
# How long a worker's first user waits for the flows its master sends as the worker connects.
SHIPPED_WAIT_SECONDS = 30.0


def request_name(service: str, step: str, label: str) -> str:
    return f"{service}:{step} {label}"


class FlowUser(PortalUser):
    """One citizen replaying the recorded flows in the catalog's mix."""

    abstract = False
    weight = 1

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        think = self.think_times
        self.think_cap = max(think.between_steps.max, think.filling_form.max, think.between_visits.max)
        self._mix: tuple[list[str], list[int]] | None = None
        self._names: dict[str, tuple[Flow, tuple[str, ...]]] = {}
        self._read: list[str] = []  # the OTP, once this visit has read it
        # this user's agent (PortalUser) told once never to follow a redirect: a flow recorded each
        # hop as its own request, with what its Location gives later ones
        self._agent.redirect_response_codes = frozenset()
        username, password, _ = self.login()
        base = (self.host or "").rstrip("/")
        origins = {role: url.rstrip("/") for role, url in self.target.origins.items()}
        self.reachable = Origins([base, *origins.values()])
        # the same citizen and account every visit: one Bindings, whose URLs are rendered once
        self.bindings = Bindings(
            base=base,
            citizen=citizen_values(self.identity),
            origins=origins,
            username=username,
            password=Secret(password),
            otp=self._visit_otp,
        )

    def on_start(self) -> None:
        super().on_start()
        ctx = run_context(self.environment)
        for _ in range(int(SHIPPED_WAIT_SECONDS / 0.1)):
            if ctx.flows:
                return
            gevent.sleep(0.1)
        raise StopUser()  # a worker whose master never sent flows (logged by the hooks)

    def mix(self) -> tuple[list[str], list[int]]:
        if self._mix is None:
            flows = run_context(self.environment).flows.flows
            weights = task_weights([s for s in self.catalog.services if s.id in flows])
            self._mix = (list(weights), list(weights.values()))
        return self._mix

    def request_names(self, flow: Flow) -> tuple[str, ...]:
        """Each request's name, by its position in the flow: worked out once per flow, not per request."""
        held = self._names.get(flow.service)
        if held is None or held[0] is not flow:
            held = (flow, tuple(request_name(flow.service, step, req.label) for step, req in flow.requests()))
            self._names[flow.service] = held
        return held[1]

    def _visit_otp(self) -> str:
        self._read.append(self.read_otp())
        return self._read[-1]

    @task
    def visit_recorded(self) -> None:
        services, weights = self.mix()
        service = random.choices(services, weights)[0]
        self.replay(run_context(self.environment).flows.flows[service])

    def replay(self, flow: Flow) -> None:
        username = self.bindings.username or ""
        read = self._read
        read.clear()
        names = self.request_names(flow)
        # the profile's trouble pages are told here (loadtests.pages) for flows and citizens alike
        replay = Replay(flow, self.bindings)
        # a flow was recorded in a fresh browser: each visit starts logged out, as it did (a single
        # sign-on that remembered the last visit would answer the login page with a redirect)
        self.client.cookiejar.clear()
        # Users of one account take turns from its first login request until its code is read (or the
        # login steps end, for a flow without an OTP); while one holds the turn it does not pause: the
        # account's other users are waiting, and a short turn keeps a one-account portal loadable.
        turn = None
        try:
            for prepared in replay:
                pause = min(prepared.think_seconds, self.think_cap)
                if turn is None and prepared.step in AUTH_STEPS and not read:
                    if pause > 0:
                        self._sleep(pause)
                    pause = 0
                    turn = login_turns[username]
                    turn.acquire()
                elif turn is not None and (read or prepared.step not in AUTH_STEPS):
                    turn.release()
                    turn = None
                # a pause of 0 still yields, as Locust's constant(0) does between tasks: a visit's
                # back-to-back requests then go out with the other users' (one loop pass for many),
                # not one by one (~6 % more requests per CPU-second, measured side by side)
                self._sleep(pause if turn is None else 0)
                if not self.send(names[prepared.index], prepared, replay):
                    raise RescheduleTask()
        finally:
            if turn is not None:
                turn.release()

    def send(self, name: str, prepared: Prepared, replay: Replay) -> bool:
        """One request of the flow, judged by the replay (status, extractions) and as a busy answer of
        any kind (`loadtests.answer_trouble`); False ends the visit (later requests depend on it).
        Sent and reported by `loadtests.sending` (this user's own agent, Locust's request event)."""
        refusal = self.reachable.refusal(prepared.url)
        if refusal is not None:
            sent = sending.unsent(prepared.method, prepared.url, PermissionError(refusal))
            sending.report(self._request_event, sent, name, self.context(), refusal)
            return False
        sent = sending.send(
            self._agent, prepared.method, prepared.url, prepared.body, prepared.headers, self.max_answer
        )
        if sent.error is not None:
            reason: str | None = sent.no_answer()
        else:
            headers = sent.response.headers  # geventhttpclient's: .get is case-insensitive
            if headers is None:
                headers = {}
            trouble = self.trouble.reason(headers.get("content-type"), sent.body)
            reason = (
                f"soft failure: {trouble}"
                if trouble
                else replay.answer(prepared, Answer(sent.status, headers, sent.body, prepared.url))
            )
        sending.report(self._request_event, sent, name, self.context(), reason)
        return reason is None
