"""What one Locust process knows about the run: profile, gates, target, limits, where to write.

Built once per process from the `--dvc-*` options (which `dvcwatch load` passes, and which the plain
`locust -f loadtests/locustfile.py` web UI shows under "Custom parameters"), so master and workers
read the same YAML and nothing travels over the wire but Locust's own messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dvcwatch.core.credentials import Account, AccountResolver
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import Profile
from dvcwatch.core.profile import load_profile as load_target
from loadtests.answer_trouble import AnswerTrouble
from loadtests.flow_files import FlowSet, read_flows
from loadtests.gates import GatesConfig, load_gates
from loadtests.pages import PageTrouble
from loadtests.profile import LoadProfile, gates_reference, load_load_profile

_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--dvc-profile",
        dict(
            default="stepped-ramp",
            env_var="DVCWATCH_LOAD_PROFILE",
            help="load profile: a name in loadtests/profiles/ or a YAML file",
        ),
    ),
    (
        "--dvc-gates",
        dict(default="", env_var="DVCWATCH_LOAD_GATES", help="gates name or YAML (default: the profile's)"),
    ),
    (
        "--dvc-target",
        dict(
            default="",
            env_var="DVCWATCH_LOAD_TARGET",
            help="target profile YAML (paths, OTP source, identities); default: the sandbox's",
        ),
    ),
    ("--dvc-out", dict(default="load-report", env_var="DVCWATCH_LOAD_OUT", help="report directory")),
    (
        "--dvc-max-users",
        dict(type=int, default=0, env_var="DVCWATCH_LOAD_MAX_USERS", help="cap below the profile's"),
    ),
    (
        "--dvc-max-duration",
        dict(
            type=float,
            default=0,
            env_var="DVCWATCH_LOAD_MAX_DURATION",
            help="seconds; cap below the profile's",
        ),
    ),
    (
        "--dvc-workers",
        dict(
            type=int,
            default=0,
            env_var="DVCWATCH_LOAD_WORKERS",
            help="workers expected; losing one stops the run (partial report)",
            include_in_web_ui=False,
        ),
    ),
    (
        "--dvc-metrics-port",
        dict(
            type=int,
            default=0,
            env_var="DVCWATCH_LOAD_METRICS_PORT",
            help="serve Prometheus metrics of the run on this port (0: off)",
        ),
    ),
    (
        "--dvc-allowlist",
        dict(
            default="",
            env_var="DVCWATCH_LOAD_ALLOWLIST",
            help="staging hosts YAML (default: loadtests/allowed_hosts.yaml)",
            include_in_web_ui=False,
        ),
    ),
    (
        "--dvc-i-have-authorisation",
        dict(
            action="store_true",
            default=False,
            env_var="DVCWATCH_LOAD_AUTHORISED",
            help="the portal's operator authorised this load in writing (needed outside loopback/staging)",
            include_in_web_ui=False,
        ),
    ),
    (
        "--dvc-flows",
        dict(
            default="",
            env_var="DVCWATCH_LOAD_FLOWS",
            help="replay the recorded flows of this directory (dvcwatch flows compile) instead of the "
            "built-in citizens; workers receive them from the master",
        ),
    ),
    (
        "--dvc-metrics-host",
        dict(default="127.0.0.1", env_var="DVCWATCH_LOAD_METRICS_HOST", include_in_web_ui=False),
    ),
)
"""Each `--dvc-*` option and its argparse settings, in the order `--help` lists them."""


def add_options(parser: Any) -> None:
    """Locust's `init_command_line_parser` hook; each option also reads a DVCWATCH_LOAD_* variable."""
    for flag, settings in _OPTIONS:
        # Locust's own parser: its argument groups do not take include_in_web_ui
        parser.add_argument(flag, **settings)


@dataclass
class RunContext:
    profile: LoadProfile
    profile_path: Path
    gates: GatesConfig
    gates_path: Path
    target: Profile
    out_dir: Path
    max_users: int
    max_duration: float
    expected_workers: int
    metrics_port: int
    metrics_host: str
    accounts: list[Account] = field(default_factory=list)
    trouble: AnswerTrouble = field(default_factory=lambda: AnswerTrouble(PageTrouble(())))
    """The profile's error page and busy banner, and busy answers in JSON and text."""
    flows: FlowSet = field(default_factory=FlowSet)  # empty: the built-in citizens
    stop_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # more keys for the report
    state: dict[str, Any] = field(default_factory=dict)  # the master's live objects (timeline, metrics)

    @property
    def otp_headers(self) -> dict[str, str]:
        """The bearer token an HTTP OTP source asks for (checked to be set when the run started)."""
        env = self.target.otp.token_env
        return {"Authorization": f"Bearer {os.environ[env]}"} if env else {}

    @classmethod
    def from_options(cls, opts: Any) -> RunContext:
        profile, profile_path = load_load_profile(opts.dvc_profile)
        gates, gates_path = load_gates(gates_reference(profile, profile_path, opts.dvc_gates))
        target = load_target(opts.dvc_target or None)
        check_load_target(target, opts.dvc_target or None)
        max_users, max_duration = profile.capped(opts.dvc_max_users, opts.dvc_max_duration)
        source = opts.dvc_target or None
        return cls(
            profile=profile,
            profile_path=profile_path,
            gates=gates,
            gates_path=gates_path,
            target=target,
            out_dir=Path(opts.dvc_out or os.getcwd()),
            max_users=max_users,
            max_duration=max_duration,
            expected_workers=max(0, opts.dvc_workers),
            metrics_port=opts.dvc_metrics_port,
            metrics_host=opts.dvc_metrics_host,
            accounts=load_accounts(target, source),
            trouble=AnswerTrouble.of(PageTrouble.of(target.selectors, source=source)),
            flows=read_flows(opts.dvc_flows, target, source) if getattr(opts, "dvc_flows", "") else FlowSet(),
        )


def check_load_target(target: Profile, source: str | None) -> None:
    """Load-test citizens read their OTP over HTTP, thousands of times: the sandbox's endpoint or an
    HTTP source (a test OTP service) with its token, if any, in the environment."""
    otp = target.otp
    if otp.source not in ("sandbox", "http") or not otp.url:
        raise ConfigError(
            "load tests read OTPs over HTTP (otp.source sandbox or http with a url); "
            f"this target uses {otp.source!r}",
            path=source,
            field="otp",
        )
    if otp.token_env and not os.environ.get(otp.token_env):
        raise ConfigError(
            f"environment variable {otp.token_env} is not set", path=source, field="otp.token_env"
        )


def load_accounts(target: Profile, source: str | None) -> list[Account]:
    """The profile's account pool (or its one account), resolved now: a missing secret stops the run
    before any load starts. Empty when the profile has no accounts: then the synthetic citizens log in.
    Every Locust process resolves them from its own environment, so remote workers need the same
    variables (or secrets file) as the master."""
    names = list(target.account_pool) or ([target.account] if target.account else [])
    if not names and target.accounts:
        names = [a.name for a in target.accounts]
    if not names:
        return []
    base = Path(source).resolve().parent if source and Path(source).is_file() else Path.cwd()
    resolver = AccountResolver(target.accounts_config(), base_dir=base)
    return [resolver.account(n) for n in names]


def run_context(environment: Any) -> RunContext:
    ctx = getattr(environment, "dvc_run", None)
    if ctx is None:
        raise RuntimeError(
            "the dvcwatch load hooks are not installed (import loadtests.hooks in the locustfile)"
        )
    return ctx
