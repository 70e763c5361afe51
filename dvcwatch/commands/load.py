"""`dvcwatch load`: run a load profile against a portal and hand back a capacity report."""

from __future__ import annotations

import argparse
from pathlib import Path

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch load --profile smoke                              one minute on the embedded sandbox
  dvcwatch load --profile stepped-ramp --host http://127.0.0.1:8480 --out runs/ramp
  dvcwatch load --profile deadline-surge --host https://staging.example.vn --workers 4
  dvcwatch load --profile my-profile.yaml --host URL --workers 2 --remote-workers 2 --master-bind 0.0.0.0
  dvcwatch load --profile my-profile.yaml --master-host 10.0.0.5 --workers 4   (on a worker machine)
  dvcwatch load --profile stepped-ramp --target staging.yaml --host URL --flows flows/   (recorded flows)
built-in profiles: smoke, stepped-ramp, monday-rush, deadline-surge, spike, soak (loadtests/profiles/)
--out must be new or empty: earlier results are never deleted unless you pass --overwrite, and even
then only once the new run has a report (until then it writes into .OUT.new-* beside them).
stopping: Ctrl-C, SIGTERM or SIGHUP stop the load on every worker at once; the report is still
written, marked partial with the signal as stop reason. SIGKILL takes every Locust process and the
embedded sandbox with it (their partial report is written where the run was writing).
exit codes: 0 every gate held, 1 a gate broke (named), 2 usage/configuration error,
130/143/129 stopped by SIGINT/SIGTERM/SIGHUP (the report is still written, marked partial)"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "load",
        help="load-test a portal with Locust citizens; gates, knee and a capacity report",
        description=(
            "Run a YAML load profile with Locust citizens who visit the 25 services in the field's mix, "
            "check the SLO gates, find the knee and write report.html + report.json. "
            "Without --host it starts the embedded sandbox portal and stops it afterwards."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    _add_what_and_where(p)
    _add_workers(p)
    _add_limits(p)
    _add_safety(p)
    p.set_defaults(func=run)


def _add_what_and_where(p: argparse.ArgumentParser) -> None:
    """The profile to run, the portal it runs against, its gates and where the report goes."""
    p.add_argument("--profile", required=True, metavar="NAME|FILE", help="load profile name or YAML file")
    p.add_argument("--host", metavar="URL", help="portal base URL (default: start the embedded sandbox)")
    p.add_argument("--gates", metavar="NAME|FILE", help="SLO gates (default: the profile's)")
    p.add_argument("--target", metavar="FILE", help="target profile YAML (paths, OTP source, identities)")
    p.add_argument(
        "--out",
        metavar="DIR",
        default="load-report",
        help="report directory, new or empty (default: %(default)s)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the earlier results in --out, once this run has a report (a failed run keeps them)",
    )


def _add_workers(p: argparse.ArgumentParser) -> None:
    """Local and remote Locust workers, and the master they connect to."""
    p.add_argument(
        "--workers", type=int, default=0, metavar="N", help="local Locust workers (0: one process)"
    )
    p.add_argument(
        "--remote-workers",
        type=int,
        default=0,
        metavar="N",
        help="workers the master waits for from other machines",
    )
    p.add_argument("--master-host", metavar="H", help="run only workers, connecting to the master at H")
    p.add_argument(
        "--master-port", type=int, default=0, metavar="P", help="master port (default: 5557 if remote)"
    )
    p.add_argument("--master-bind", default="127.0.0.1", metavar="ADDR", help="master listen address")


def _add_limits(p: argparse.ArgumentParser) -> None:
    """Caps that can only lower the profile's, and the run's own metrics."""
    p.add_argument("--max-users", type=int, default=0, metavar="N", help="lower the profile's user cap")
    p.add_argument(
        "--max-duration", type=float, default=0, metavar="S", help="lower the profile's duration cap (s)"
    )
    p.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        metavar="P",
        help="serve the run's Prometheus metrics on 127.0.0.1:P (0: off; a port in use is an error)",
    )


def _add_safety(p: argparse.ArgumentParser) -> None:
    """What may be loaded (allowlist, written authorisation), the sandbox's faults, recorded flows."""
    p.add_argument(
        "--allowlist", metavar="FILE", help="staging hosts YAML (default: loadtests/allowed_hosts.yaml)"
    )
    p.add_argument(
        "--i-have-authorisation",
        action="store_true",
        help="the portal's operator authorised this load in writing (needed outside loopback/staging)",
    )
    p.add_argument("--sandbox-faults", metavar="FILE", help="faults YAML for the embedded sandbox")
    p.add_argument(
        "--flows",
        metavar="DIR",
        help="replay the recorded flows in DIR (dvcwatch shop --record, flows compile) in the catalog's mix "
        "instead of the built-in citizens; refused on a production profile",
    )


def run(args: argparse.Namespace) -> int:
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.orchestration.load_runs import LoadRequest, execute

    for name in ("workers", "remote_workers", "max_users", "master_port", "metrics_port"):
        if getattr(args, name) < 0:
            raise ConfigError(f"--{name.replace('_', '-')} cannot be negative")
    if args.max_duration < 0:
        raise ConfigError("--max-duration cannot be negative")
    return execute(
        LoadRequest(
            profile=args.profile,
            host=args.host,
            gates=args.gates,
            target=args.target,
            out_dir=Path(args.out),
            workers=args.workers,
            remote_workers=args.remote_workers,
            master_host=args.master_host,
            master_port=args.master_port,
            master_bind=args.master_bind,
            max_users=args.max_users,
            max_duration=args.max_duration,
            metrics_port=args.metrics_port,
            allowlist=args.allowlist,
            authorised=args.i_have_authorisation,
            sandbox_faults=args.sandbox_faults,
            overwrite=args.overwrite,
            flows=args.flows,
        )
    )
