"""Run journeys for services × personas on one browser with N contexts in parallel.

The runner, not the steps, owns timing, per-step timeouts, screenshots, traces and verdicts (like
blackbox_exporter's handler owns probe_success), so every step is measured and reported the same way.
Nothing here stops the sweep early: a hung step ends after its timeout, a crashed browser is
relaunched and the journey it took down is run again once (recorded as `harness_restarts`).

Against someone else's portal the runner also keeps its manners and its secrets: production journeys
stop at each service's last reversible point (`checked_to`), the login and OTP of a non-sandbox target
are never traced, password and OTP boxes are masked in screenshots, every text artifact passes the
run's `Redactor`, and non-loopback hosts get the profile's politeness limits and User-Agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dvcwatch.core.catalog.models import Catalog, Service
from dvcwatch.core.credentials import Account, AccountResolver, Redactor
from dvcwatch.core.errors import DvcwatchError
from dvcwatch.core.identities import Citizen, citizen
from dvcwatch.core.identities.lease import CitizenBlock, claim_block
from dvcwatch.core.politeness import Politeness, is_loopback
from dvcwatch.core.profile import Profile
from playwright_journeys.browser import CHROMIUM, BrowserHost, quiet_driver_teardown
from playwright_journeys.browser_pool import BrowserPool, BrowserServer
from playwright_journeys.journey import Errand, Journey, Login, Options, StepSkipped, Tab
from playwright_journeys.journeys import journey_for
from playwright_journeys.outcome import HarnessError, LookOnlyStop, StepFailure
from playwright_journeys.personas import Persona
from playwright_journeys.plugins import step_functions
from playwright_journeys.record import Recorder, Take
from playwright_journeys.results import (
    Artifacts,
    FailureInfo,
    RunResults,
    ServiceResult,
    StepResult,
    Target,
    now_iso,
    summarize,
)
from playwright_journeys.steps import KINDS
from playwright_journeys.verdicts import judge

if TYPE_CHECKING:
    from dvcwatch.core.otp_sources import OtpSource

CLOSE_TIMEOUT = 10.0
MAX_HARNESS_RESTARTS = 2
STEP_GRACE = 5.0  # the step's own waits end first; this only catches a stuck call


@dataclass
class Job:
    index: int  # position in the whole (unsharded) sweep: picks the citizen, stable across shards
    service: Service
    persona: Persona


@dataclass
class SweepConfig:
    profile: Profile
    catalog: Catalog
    services: list[Service]
    personas: list[Persona]
    out_dir: Path
    parallel: int = 4
    retries: int = 0
    vantage: str = "local"
    step_timeout: float | None = None
    shard: tuple[int, int] = (1, 1)
    trace: Literal["on-failure", "off"] = "on-failure"
    executable: str = CHROMIUM
    on_result: Callable[[ServiceResult], None] | None = None
    on_start: Callable[[Job], None] | None = None
    # after each finished journey, the sweep so far (partial): written at once, so a killed sweep
    # keeps what it did
    on_progress: Callable[[RunResults], None] | None = None
    authorised: bool = False  # --i-have-authorisation: with allow_submit, production journeys submit
    profile_dir: Path = Path(".")  # where a relative secrets_file is looked up
    record_dir: Path | None = (
        None  # --record: each journey's HTTP exchange as a HAR (playwright_journeys.record)
    )
    browsers: list[BrowserServer] = field(default_factory=list)  # --browser: servers instead of chromium here


def look_only(cfg: SweepConfig) -> bool:
    """Production journeys only look, unless the profile allows submitting and the operator says so."""
    return cfg.profile.look_only and not (cfg.profile.allow_submit and cfg.authorised)


NOT_DONE = "not done: production, look don't touch"
LOGIN_STEPS = tuple(name for name, s in KINDS.items() if s.logs_in)  # login, then otp
REUSED = "logged in once this sweep: the account's session is reused"


def plan(cfg: SweepConfig) -> list[Job]:
    jobs = [Job(i, s, p) for i, (p, s) in enumerate((p, s) for p in cfg.personas for s in cfg.services)]
    k, n = cfg.shard
    return [j for j in jobs if j.index % n == k - 1]


@dataclass
class _Attempt:
    result: ServiceResult
    crashed: bool = False


class Sweep:
    def __init__(self, cfg: SweepConfig) -> None:
        self.cfg = cfg
        self.host: BrowserHost | BrowserPool | None = None
        self.redactor = Redactor()
        self.politeness = Politeness(cfg.profile.politeness)
        self.account: Account | None = None  # the first of `accounts`
        self.accounts: list[Account] = []  # the profile's account, or its account_pool
        self.otp_source: OtpSource | None = None
        self._otp_sources: dict[str, OtpSource] = {}  # per account, when each has its own TOTP seed
        # one test account, many journeys: login+OTP one at a time per account (the OTP source shows
        # the newest code, so two journeys logging in at once take each other's codes), at most
        # `sessions_per_account` journeys at once per account, and a session kept for reuse
        self._login_locks: dict[str, asyncio.Lock] = {}
        self._session_slots: dict[str, asyncio.Semaphore] = {}
        self._logged_in: dict[str, object] = {}  # account → storage state after login+OTP
        self.steps = step_functions(cfg.profile.journey.plugins)
        self.recorder = Recorder(cfg.record_dir, cfg.profile) if cfg.record_dir else None
        self.journeys: list[Journey] = []  # kept for `dvcwatch profile check`, which reports selectors
        self.citizens = CitizenBlock(0, cfg.profile.identities.count)  # run() claims this run's own
        self.stop_reason: str | None = None  # set by stop_soon (Ctrl-C, SIGTERM): finish early, keep results
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: asyncio.Future[list[None]] | None = None

    def stop_soon(self, why: str) -> None:
        """Stop the sweep: start no more journeys and cancel the running ones (their browser contexts
        close); what finished is kept and the results say `partial`. Safe to call from a signal
        handler: it only sets fields and wakes the loop."""
        if self.stop_reason is None:
            self.stop_reason = why
            quiet_driver_teardown()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._cancel_workers)

    def _cancel_workers(self) -> None:
        if self._workers is not None:
            self._workers.cancel()

    def _quiet_when_stopping(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        """A journey cancelled mid-call leaves Playwright's answer pending; when the browser closes
        (or Ctrl-C, sent to the whole process group, ends Playwright's driver first), that answer
        fails with nobody waiting for it, and asyncio would print "Future exception was never
        retrieved" for each. After a stop that is expected, not news; anything else is still shown."""
        unretrieved = str(context.get("message", "")).startswith("Future exception was never retrieved")
        if self.stop_reason is not None and unretrieved:
            return
        loop.default_exception_handler(context)

    def _polite(self) -> bool:
        """Someone else's portal (or a test asking for the limits on loopback)."""
        prof = self.cfg.profile
        return prof.politeness.limit_loopback or not all(is_loopback(_host(u)) for u in prof.hosts())

    def _user_agent(self) -> str | None:
        return self.politeness.user_agent if self._polite() else None

    def _prepare(self) -> None:
        """Everything that can be wrong before a browser starts: secrets, politeness contact."""
        prof = self.cfg.profile
        prof.check_forms(self.cfg.catalog)  # forms: sections name catalog services and fields
        for url in prof.hosts():
            self.politeness.check_target(url)
        names = list(prof.account_pool) or ([prof.account] if prof.account else [])
        if names:
            creds = AccountResolver(prof.accounts_config(), base_dir=self.cfg.profile_dir)
            self.accounts = [creds.account(n) for n in names]
            for acc in self.accounts:
                for secret in acc.secrets():
                    self.redactor.add(secret)
            self.account = self.accounts[0]
        from playwright_journeys.steps.otp import source_for

        self.otp_source = source_for(prof, self.account.totp_secret if self.account else None)
        if len(self.accounts) > 1 and any(a.totp_secret for a in self.accounts):
            self._otp_sources = {a.name: source_for(prof, a.totp_secret) for a in self.accounts}

    def _account_for(self, job: Job) -> Account | None:
        """Journeys are spread over the pool in plan order, so each account gets its share."""
        return self.accounts[job.index % len(self.accounts)] if self.accounts else None

    def _reuse_login(self) -> bool:
        """Log in once per account per sweep: by default in production, where each login sends an
        SMS to the operator's phone (25 services, 25 messages)."""
        prof = self.cfg.profile
        return prof.reuse_login if prof.reuse_login is not None else prof.environment == "production"

    def _slot(self, key: str) -> asyncio.Semaphore | None:
        n = self.cfg.profile.sessions_per_account
        if n is None:
            return None
        return self._session_slots.setdefault(key, asyncio.Semaphore(n))

    async def run(self) -> RunResults:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(self._quiet_when_stopping)
        self._prepare()
        jobs = plan(self.cfg)
        started, t0 = now_iso(), time.monotonic()
        results: list[ServiceResult] = []
        ids, whole = self.cfg.profile.identities, len(self.cfg.personas) * len(self.cfg.services)
        # citizens no other run on this machine plays at the same time (their OTPs would cross)
        self.citizens = claim_block(self.cfg.profile.base_url, ids.seed, ids.count, whole)
        try:
            await self._run(jobs, results, started, t0)
        except Exception:
            # Ctrl-C reaches Playwright's driver too (the terminal signals the whole group): what
            # breaks while stopping is the stop, and the finished journeys are still the answer
            if self.stop_reason is None:
                raise
        finally:
            self._loop = None
            self.citizens.release()
        return self._results(results, len(jobs), started, t0)

    async def _run(self, jobs: list[Job], results: list[ServiceResult], started: str, t0: float) -> None:
        from playwright.async_api import async_playwright

        cfg = self.cfg
        async with async_playwright() as pw:
            for p in cfg.personas:
                if p.device and p.device not in pw.devices:
                    raise DvcwatchError(f"persona {p.name}: unknown Playwright device {p.device!r}")
            self.host = (
                BrowserPool(pw, cfg.browsers, cfg.parallel)
                if cfg.browsers
                else BrowserHost(pw, cfg.executable, scratch=cfg.out_dir)  # trace files: not in /tmp
            )
            try:
                await self.host.ensure()
            except Exception as exc:
                if self.stop_reason is None and isinstance(exc, DvcwatchError):
                    raise  # no browser server answered: the pool says which, and why
                if self.stop_reason is None:
                    raise DvcwatchError(f"could not start chromium ({cfg.executable}): {exc}") from None
            queue: asyncio.Queue[Job] = asyncio.Queue()
            for j in jobs:
                queue.put_nowait(j)

            async def worker() -> None:
                while not queue.empty() and self.stop_reason is None:
                    job = queue.get_nowait()
                    if cfg.on_start:
                        cfg.on_start(job)
                    res = await self.run_job(job)
                    results.append(res)
                    if cfg.on_result:
                        cfg.on_result(res)
                    if cfg.on_progress:
                        cfg.on_progress(self._results(results, len(jobs), started, t0))

            try:
                if self.stop_reason is None:
                    n = max(1, min(cfg.parallel, len(jobs)))
                    self._workers = asyncio.gather(*(worker() for _ in range(n)))
                    await self._workers
            except asyncio.CancelledError:
                if self.stop_reason is None:
                    raise
            finally:
                self._workers = None
                await self.host.close()

    def _results(self, results: list[ServiceResult], planned: int, started: str, t0: float) -> RunResults:
        """The sweep so far: ordered as planned, counted, redacted, and `partial` unless all is done."""
        cfg = self.cfg
        order = {
            (p.name, s.id): i for i, (p, s) in enumerate((p, s) for p in cfg.personas for s in cfg.services)
        }
        done = sorted(results, key=lambda r: order[(r.persona, r.service)])
        k, n = cfg.shard
        partial, why = len(done) < planned, None
        if partial and self.stop_reason:
            why = f"stopped by {self.stop_reason} after {len(done)} of {planned} journeys"
        elif partial:
            why = (
                f"in progress: {len(done)} of {planned} journeys finished when this was written "
                "(a sweep that was killed stays like this)"
            )
        run = RunResults(
            started_at=started,
            finished_at=now_iso(),
            duration_seconds=round(time.monotonic() - t0, 3),
            target=Target(
                name=cfg.profile.name, base_url=cfg.profile.base_url, environment=cfg.profile.environment
            ),
            vantage=cfg.vantage,
            personas=[p.name for p in cfg.personas],
            shard=f"{k}/{n}",
            planned=planned,
            partial=partial,
            partial_reason=why,
            summary=summarize(done),
            results=done,
        )
        # what a journey saw may quote a typed value back (a form re-shown with the OTP in it)
        return RunResults.model_validate(self.redactor.data(run.model_dump(mode="json")))

    async def run_job(self, job: Job) -> ServiceResult:
        """Attempts per `--retries` (portal failures) plus restarts after a browser crash (ours)."""
        restarts = 0
        attempts: list[ServiceResult] = []
        while True:
            attempt = await self._attempt(job, len(attempts) + 1)
            if attempt.crashed and restarts < MAX_HARNESS_RESTARTS:
                restarts += 1
                continue
            attempts.append(attempt.result)
            if attempt.result.verdict not in ("fail", "error") or len(attempts) > self.cfg.retries:
                break
        final = attempts[-1]
        first_bad = next((a for a in attempts if a.verdict in ("fail", "error")), None)
        update: dict[str, object] = {
            "attempts": len(attempts),
            "harness_restarts": restarts,
            "journey_id": uuid.uuid4().hex,  # its own history row, whatever else ran in the same second
        }
        if len(attempts) > 1 and final.completed:
            update["flaky"] = True
            if first_bad is not None:
                update["artifacts"] = first_bad.artifacts
        return final.model_copy(update=update)

    async def _attempt(self, job: Job, number: int) -> _Attempt:
        """One try at a job, inside the host's politeness limit and the account's session slot."""
        profile = self.cfg.profile
        who = citizen(profile.identities.seed, self.citizens.index(job.index))
        acc = self._account_for(job)
        key = acc.name if acc else who.cccd  # who logs in: a test account, or a synthetic citizen
        turn = _LoginTurn(self._login_locks.setdefault(key, asyncio.Lock()))
        slot = self._slot(key) if acc else None
        async with self.politeness.for_host(profile.base_url).context(), slot or contextlib.nullcontext():
            try:
                return await self._attempt_in_context(job, number, who, acc, turn)
            finally:
                turn.release()

    async def _attempt_in_context(
        self, job: Job, number: int, who: Citizen, acc: Account | None, turn: _LoginTurn
    ) -> _Attempt:
        """Open a browser context (with the account's kept session, if any), walk the steps, keep the
        evidence of a failure, judge."""
        walk = _Walk(journey_for(job.service, self.cfg.profile), time.monotonic())
        if not self.recorder:
            return await self._walk_in_context(job, number, who, acc, turn, walk)
        walk.take = self.recorder.start(job.service.id, job.persona.name, len(self.cfg.personas))
        try:
            return await self._walk_in_context(job, number, who, acc, turn, walk)
        finally:
            walk.take.discard()  # kept by now, or stopped (Ctrl-C, SIGTERM): the raw HAR holds the password

    async def _walk_in_context(
        self, job: Job, number: int, who: Citizen, acc: Account | None, turn: _LoginTurn, walk: _Walk
    ) -> _Attempt:
        assert self.host is not None
        session = await self._reused_session(acc, turn)
        try:
            context, page = await self.host.new_context(
                job.persona,
                self._user_agent(),
                session,
                record=walk.take.har_options() if walk.take else None,
            )
        except Exception as exc:
            walk.harness = f"could not open a browser: {exc}"
            return _Attempt(self._finish(job, who.index, walk, None), crashed=self.host.lost(None))
        j = await self._journey(job, who, acc, Tab(page, context), walk)
        evidence = _Evidence(self, job, number, j.tab)
        try:
            if walk.take:
                await walk.take.attach(context, page)
            await _Steps(self, j, walk, evidence, turn, acc, session).run()
            artifacts = await evidence.keep(walk)
        finally:
            if walk.take:
                await _quietly(walk.take.settle())
            await _quietly(context.close())
        judged = self._judged(job, who, walk, j, artifacts)
        if self.recorder and walk.take:
            self.recorder.keep(walk.take, who, j.username, j.password, judged.verdict)
        return _Attempt(judged, crashed=walk.crashed)

    async def _reused_session(self, acc: Account | None, turn: _LoginTurn) -> object | None:
        """The account's session kept by an earlier journey of this sweep, when logins are reused: the
        first journey of an account logs in (holding its turn), the others wait for it, then reuse."""
        if acc is None or not self._reuse_login():
            return None
        await turn.take()
        session = self._logged_in.get(acc.name)
        if session is not None:
            turn.release()
        return session

    async def _journey(self, job: Job, who: Citizen, acc: Account | None, tab: Tab, walk: _Walk) -> Journey:
        """The journey for one attempt, its page set up: manners on someone else's portal, navigation
        watched (to know whose page failed), and one answer's patience as the page's default."""
        cfg = self.cfg
        step_timeout = (
            cfg.step_timeout or cfg.profile.journey.step_timeout_seconds
        ) * job.persona.timeout_factor
        otp_source = self._otp_sources.get(acc.name, self.otp_source) if acc else self.otp_source
        j = Journey(
            tab,
            Errand(cfg.profile, cfg.catalog, job.service),
            Login.of(who, acc, otp_source),
            Options(job.persona, step_timeout, look_only=look_only(cfg)),
            # the run's: the journey hands it the password (and, recording, tells the take its OTPs)
            redactor=walk.take.redactor(self.redactor) if walk.take else self.redactor,
        )
        self.journeys.append(j)
        if self._polite():
            await self.politeness.install_on_context(tab.context)
        j.watch_navigation()
        tab.page.set_default_timeout(step_timeout * 1000)
        tab.page.set_default_navigation_timeout(step_timeout * 1000)
        return j

    def _judged(self, job: Job, who: Citizen, walk: _Walk, j: Journey, artifacts: Artifacts) -> ServiceResult:
        """The attempt's result; a look-only journey says how far it checked, and one that may not file
        cannot claim to have gone end to end."""
        res = self._finish(job, who.index, walk, j)
        update: dict[str, object] = {"artifacts": artifacts}
        if j.look_only:
            update["checked_to"] = j.checked_to or (
                walk.failed_step and _before(walk.names, walk.failed_step)
            )
            if j.checked_to and res.verdict == "pass":
                update["verdict"] = "not_filed"
        return res.model_copy(update=update)

    def _finish(self, job: Job, citizen_index: int, walk: _Walk, j: Journey | None) -> ServiceResult:
        service, persona = job.service, job.persona
        steps = walk.steps or [StepResult(name=n, status="not_run") for n in walk.names]
        submit_seconds = _submit_seconds(j)
        verdict = judge(
            failed=walk.failure is not None,
            harness_error=walk.harness is not None,
            level_promised=service.level,
            level_delivered=j.level_delivered if j else None,
            submit_seconds=submit_seconds,
            service_budget_seconds=service.latency_budget_seconds,
            persona_budget_seconds=persona.budget_seconds,
            fee_published=service.fee.amount if service.fee.kind in ("fixed", "none") else None,
            fee_charged=j.fee_charged if j else None,
        )
        return ServiceResult(
            service=service.id,
            name_vi=service.name_vi,
            name_en=service.name_en,
            agency=service.agency,
            persona=persona.name,
            verdict=verdict.verdict,  # type: ignore[arg-type]
            failed_step=walk.failed_step if verdict.verdict in ("fail", "error") else None,
            failure=_failure_info(walk, steps),
            level_promised=service.level,
            level_advertised=j.level_advertised if j else None,  # type: ignore[arg-type]
            level_delivered=j.level_delivered if j else None,  # type: ignore[arg-type]
            degraded_reasons=verdict.reasons,
            steps=steps,
            dossier_code=j.dossier_code if j else None,
            expected_date=j.expected_date if j else None,
            fee_promised=service.fee.amount,
            fee_charged=j.fee_charged if j else None,
            duration_seconds=round(time.monotonic() - walk.t0, 3),
            submit_seconds=submit_seconds,
            budget_seconds=min(service.latency_budget_seconds, persona.budget_seconds),
            citizen_index=citizen_index,
        )

    def _is_crash(self, exc: BaseException, page) -> bool:  # type: ignore[no-untyped-def]
        assert self.host is not None
        if self.host.lost(page):
            return True
        text = str(exc).lower()
        return page.is_closed() or "target crashed" in text or "has been closed" in text


@dataclass
class _Walk:
    """One attempt's steps as they run: what each did, and how the journey ended — a portal failure
    (`failure`, at `failed_step`), a harness error of ours (`harness`), or our browser crashing."""

    names: list[str]
    t0: float
    steps: list[StepResult] = field(default_factory=list)
    failure: StepFailure | None = None
    failed_step: str | None = None
    harness: str | None = None
    crashed: bool = False
    done: set[str] = field(default_factory=set)  # already reported, by an earlier step's failure
    take: Take | None = None  # --record: this attempt's recording


class _Steps:
    """Runs one attempt's steps in order, each the same way: skip it or run it under its time limit,
    say who failed (the step, a later step whose page it was, or our browser), record it, and give
    the account's login turn back once the OTP is typed."""

    def __init__(
        self,
        sweep: Sweep,
        j: Journey,
        walk: _Walk,
        evidence: _Evidence,
        turn: _LoginTurn,
        acc: Account | None,
        session: object | None,
    ) -> None:
        self.sweep, self.j, self.walk, self.evidence = sweep, j, walk, evidence
        self.turn, self.acc, self.session = turn, acc, session
        self.reuse = acc is not None and sweep._reuse_login()
        self.last_login = next((n for n in reversed(walk.names) if n in LOGIN_STEPS), None)

    async def run(self) -> None:
        for name in self.walk.names:
            if not self._skipped(name):
                await self._step(name)

    def _skipped(self, name: str) -> bool:
        """Whether `name` does not run, its result (if any) recorded: after a failure, after a
        look-only journey's stop, or a login the reused session makes needless."""
        walk = self.walk
        if name in walk.done:
            return True
        if walk.failure or walk.harness:
            walk.steps.append(StepResult(name=name, status="not_run"))
        elif self.j.checked_to:
            prof = self.sweep.cfg.profile  # a look-only check of a staging profile is not production
            done = NOT_DONE if prof.environment == "production" else f"not done: {prof.look_only_why}"
            walk.steps.append(StepResult(name=name, status="not_run", detail=done))
        elif self.session is not None and name in LOGIN_STEPS:
            walk.steps.append(StepResult(name=name, status="skipped", detail=REUSED))
        else:
            return False
        return True

    async def _step(self, name: str) -> None:
        j, walk = self.j, self.walk
        if name == LOGIN_STEPS[0]:
            await self.turn.take()  # until the OTP is typed: nobody else's code is the newest
        await self.evidence.start_trace(name)
        if walk.take:
            walk.take.mark(name)
        j.begin_step(name)
        start_url = _safe_url(j.page)
        s0 = time.monotonic()
        status, detail = await self._call(name)
        if walk.failure is not None and self.sweep._is_crash(BaseException(), j.page):
            # the step saw "nothing came" because our browser died under it, not the portal
            walk.crashed, walk.failure = True, None
            walk.harness = detail = f"browser crashed during the {name} step"
        if walk.failure is not None and status == "failed":
            name, s0 = self._blame_page_owner(name, s0, start_url)
        if status == "failed":
            walk.failed_step = name
        walk.steps.append(
            StepResult(
                name=name,
                status=status,  # type: ignore[arg-type]
                duration_seconds=round(time.monotonic() - s0, 3),
                started_seconds=round(s0 - walk.t0, 3),
                detail=detail,
                http_status=walk.failure.http_status
                if walk.failure and status == "failed"
                else j.last_status,
                url=j.nav_url or _safe_url(j.page),
            )
        )
        await self._hand_back_login(name, status)

    async def _call(self, name: str) -> tuple[str, str]:
        """The step under its time limit: its status and detail; a failure or harness error is kept
        on the walk."""
        j, walk = self.j, self.walk
        try:
            await asyncio.wait_for(self.sweep.steps[name](j), timeout=j.step_limit + STEP_GRACE)
            return "passed", j.detail
        except LookOnlyStop as exc:
            j.checked_to = name
            return "passed", str(exc)
        except StepSkipped as exc:
            return "skipped", str(exc)
        except StepFailure as exc:
            walk.failure = exc
            return "failed", exc.message
        except TimeoutError:
            await j.stop_loading()
            walk.failure = j.no_answer()
            return "failed", walk.failure.message
        except HarnessError as exc:
            walk.harness = str(exc)
            return "failed", str(exc)
        except Exception as exc:
            await self._broke(exc)
            return "failed", (walk.failure.message if walk.failure else walk.harness or "")

    async def _broke(self, exc: Exception) -> None:
        """Whose fault an unexpected exception is: our browser's (a crash), the portal's (the step's
        time ran out inside an action, or the page broke), or ours (a bug: a harness error)."""
        j, walk = self.j, self.walk
        if self.sweep._is_crash(exc, j.page):
            walk.crashed = True
            walk.harness = f"browser crashed: {_first_line(exc)}"
        elif _is_playwright_timeout(exc):
            await j.stop_loading()
            walk.failure = j.no_answer()
        elif _is_playwright(exc):
            walk.failure = StepFailure(f"the page broke: {_first_line(exc)}", seen=await j.seen_text())
        else:
            walk.harness = f"{type(exc).__name__}: {_first_line(exc)}"

    def _blame_page_owner(self, name: str, s0: float, start_url: str | None) -> tuple[str, float]:
        """The failing step and when it began: this one, or, when the failure happened on a later
        step's own page (the next step's, or, when the login starts from the service page or the OTP
        ends on the e-form, one further on), that step; this one then did its part or never got to it,
        and the steps between are not run."""
        j, walk, names, profile = self.j, self.walk, self.walk.names, self.sweep.cfg.profile
        owner = _arrival_owner(profile, names, name, j.nav_url)
        if not owner:
            return name, s0
        handed_over = min(max(j.nav_started, s0), time.monotonic())
        reached = _reached_own_page(profile, names, name, owner, [start_url, *j.step_pages_seen[:-1]])
        walk.steps.append(
            StepResult(
                name=name,
                status="passed" if reached else "not_run",
                duration_seconds=round(handed_over - s0, 3),
                started_seconds=round(s0 - walk.t0, 3),
                detail=f"done; then the {owner} page failed"
                if reached
                else f"not reached: the {owner} page on the way to it failed",
            )
        )
        for between in names[names.index(name) + 1 : names.index(owner)]:
            walk.steps.append(StepResult(name=between, status="not_run"))
            walk.done.add(between)
        walk.done.add(owner)
        return owner, handed_over

    async def _hand_back_login(self, name: str, status: str) -> None:
        """Once the OTP is typed (or the login failed), others may log in; a session that logged in
        is kept for this account's next journeys, when logins are reused."""
        if not self.turn.held or (name != self.last_login and status == "passed"):
            return
        if self.reuse and status == "passed" and self.acc is not None:
            try:
                self.sweep._logged_in[self.acc.name] = await self.j.context.storage_state()
            except Exception:
                pass  # the next journey of this account logs in itself
        self.turn.release()


class _Evidence:
    """What an attempt keeps for the operator: a trace of DOM snapshots (never of the login and OTP
    of someone else's portal: tracing starts after them) and, when the portal failed, a screenshot
    with the problem in view and the secret boxes masked; every text in them redacted."""

    def __init__(self, sweep: Sweep, job: Job, number: int, tab: Tab) -> None:
        self.tab, self.job, self.number = tab, job, number
        self.out_dir, self.profile, self.redactor = sweep.cfg.out_dir, sweep.cfg.profile, sweep.redactor
        self.tracing = sweep.cfg.trace == "on-failure"
        self.trace_after_login = sweep.cfg.profile.environment != "sandbox"
        self.traced = False

    async def start_trace(self, step: str) -> None:
        if self.tracing and not self.traced and not (self.trace_after_login and step in LOGIN_STEPS):
            self.traced = True  # DOM snapshots: cheap, enough to replay
            await self.tab.context.tracing.start(screenshots=False, snapshots=True)

    async def keep(self, walk: _Walk) -> Artifacts:
        """The screenshot and trace of a portal failure; nothing after a success or our crash."""
        if walk.failure and not walk.crashed:
            return await self._keep_failure()
        if self.traced and not walk.crashed:
            await _quietly(self.tab.context.tracing.stop())
        return Artifacts()

    async def _keep_failure(self) -> Artifacts:
        page, context = self.tab.page, self.tab.context
        rel_dir = Path("artifacts") / self.job.persona.name
        (self.out_dir / rel_dir).mkdir(parents=True, exist_ok=True)
        stem = f"{self.job.service.id}-attempt{self.number}"
        shot, trace = rel_dir / f"{stem}.png", rel_dir / f"{stem}-trace.zip"
        await _quietly(_show_the_problem(page, self.profile))
        got_shot = await _quietly(
            page.screenshot(
                path=str(self.out_dir / shot), timeout=5000, mask=_secret_boxes(page, self.profile)
            )
        )
        got_trace = self.traced and await _quietly(context.tracing.stop(path=str(self.out_dir / trace)))
        if got_trace:
            _redact_zip(self.out_dir / trace, self.redactor)
        return Artifacts(
            screenshot=str(shot) if got_shot else None,
            trace=str(trace) if got_trace else None,
        )


def _submit_seconds(j: Journey | None) -> float | None:
    """From the login's start to the dossier's submission: the citizen's wait, judged against budgets."""
    if j is None or j.login_started is None or j.submitted_at is None:
        return None
    return round(j.submitted_at - j.login_started, 3)


def _failure_info(walk: _Walk, steps: list[StepResult]) -> FailureInfo | None:
    if walk.harness is not None:
        return FailureInfo(message=walk.harness)
    if walk.failure is None:
        return None
    return FailureInfo(
        message=walk.failure.message,
        seen=walk.failure.seen,
        http_status=walk.failure.http_status,
        url=next((s.url for s in steps if s.name == walk.failed_step), None),
        selector=walk.failure.selector,
    )


class _LoginTurn:
    """One journey's hold on its account's login lock: taken before the login step, given back once
    the OTP is typed (or the journey ends), never twice either way."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self.lock = lock
        self.held = False

    async def take(self) -> None:
        if not self.held:
            await self.lock.acquire()
            self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()


PROBLEM_SELECTORS = (
    "error_page",
    "error_banner",
    "form_errors",
    "login_error",
    "otp_error",
    "payment_status",
)


async def _show_the_problem(page, profile: Profile) -> None:  # type: ignore[no-untyped-def]
    """Scroll the message the citizen met into view, so the screenshot shows it, not the page header."""
    from playwright_journeys.locate import locate
    from playwright_journeys.refusal import REFUSED

    refused = page.locator(f"[{REFUSED}]")  # the row the portal refused (refusal.py marked it)
    if await refused.count():
        await refused.first.scroll_into_view_if_needed(timeout=1000)
        return
    for name in PROBLEM_SELECTORS:
        if not profile.selectors.has(name):
            continue
        loc = locate(page, profile.selectors.get(name))
        if await loc.count():
            await loc.first.scroll_into_view_if_needed(timeout=1000)
            return


SECRET_BOXES = 'input[type=password], input[autocomplete="one-time-code"], input[name*="otp" i]'


def _secret_boxes(page, profile: Profile) -> list:  # type: ignore[no-untyped-def]
    """Password and OTP boxes, painted over in every screenshot (Playwright's `mask`)."""
    from playwright_journeys.locate import locate

    boxes = [page.locator(SECRET_BOXES)]
    for name in ("login_password", "otp_input"):
        if profile.selectors.has(name):
            boxes.append(locate(page, profile.selectors.get(name)))
    return boxes


def _redact_zip(path: Path, redactor: Redactor) -> None:
    """Rewrite a trace zip with every entry scrubbed (a typed value can sit in a DOM snapshot)."""
    if not len(redactor):
        return
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info)) for info in z.infolist()]
    if not any(redactor.found_in(data) for _, data in entries):
        return
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            z.writestr(info, redactor.bytes(data))
    tmp.replace(path)


def _host(url: str) -> str:
    from dvcwatch.core.politeness import host_of

    return host_of(url)


def _before(names: list[str], step: str) -> str | None:
    """The last step that passed before `step` (what a failed look-only journey did check)."""
    i = names.index(step)
    return names[i - 1] if i > 0 else None


def _arrival_owner(profile: Profile, names: list[str], current: str, url: str | None) -> str | None:
    """The first later step whose own page the failure happened on, unless it is this step's page.

    Usually the next step (a click accepted, the page it led to failed); but a login through the
    service's own button starts on find_service's page, and the OTP may end on the e-form (form's):
    a fault there is found at the step that owns the page, however far on it is."""
    if not url:
        return None
    from urllib.parse import urlsplit

    serving = profile.journey.steps_serving(urlsplit(url).path)
    if current in serving:
        return None
    return next((n for n in names[names.index(current) + 1 :] if n in serving), None)


def _reached_own_page(
    profile: Profile, names: list[str], current: str, owner: str, seen: list[str | None]
) -> bool:
    """Whether `current` did its part before the `owner` page failed: the owner is the very next
    step (the click that led there was accepted), or one of this step's own pages was shown first."""
    from urllib.parse import urlsplit

    if names.index(owner) == names.index(current) + 1:
        return True
    return any(u and current in profile.journey.steps_serving(urlsplit(u).path) for u in seen)


def _is_playwright_timeout(exc: BaseException) -> bool:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    return isinstance(exc, PlaywrightTimeout)


def _is_playwright(exc: BaseException) -> bool:
    from playwright.async_api import Error

    return isinstance(exc, Error)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _safe_url(page) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return page.url
    except Exception:
        return None


async def _quietly(aw) -> bool:  # type: ignore[no-untyped-def]
    """Best-effort cleanup with a bound: a hung page must not hold the sweep."""
    try:
        await asyncio.wait_for(aw, timeout=CLOSE_TIMEOUT)
        return True
    except Exception:
        return False


def run_sweep(cfg: SweepConfig) -> RunResults:
    return asyncio.run(Sweep(cfg).run())
