"""`dvcwatch flows`: turn a `shop --record` recording into flow files, and check flow files.

    dvcwatch flows compile RECORDING_DIR --out FLOWS_DIR [--target PROFILE]
    dvcwatch flows check FLOWS_DIR [--target PROFILE]

A flow is what `load` and `probe` replay without a browser; compiling correlates it automatically
(dvcwatch.core.flows.correlate) so it replays with no hand edits, and `check` is the review a person
does before a load: every step, request, parameter and extraction, and the origins it will visit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dvcwatch.commands.cli import HelpFormatter

if TYPE_CHECKING:
    from dvcwatch.core.flows import Flow

EXAMPLES = """examples:
  dvcwatch shop --target staging.yaml --record rec/        record the shopper (not on production)
  dvcwatch flows compile rec/ --out flows/ --target staging.yaml
  dvcwatch flows check flows/ --target staging.yaml        what each flow sends, before a load
exit codes: 0 ok, 2 a recording or flow file that cannot be used (the message names file, line, field)"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "flows",
        help="compile a recorded shopper into flows that load and probes replay; check flow files",
        description=(
            "A recording (`dvcwatch shop --record DIR`) is the HTTP exchange a browser had with the "
            "portal. `compile` turns it into one flow file per service with correlation done "
            "(tokens, redirects, dossier codes extracted from answers; the citizen's identity as "
            "parameters; password and OTP as references). `check` reads flow files and shows them."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    verbs = p.add_subparsers(dest="verb", metavar="{compile,check}")
    c = verbs.add_parser("compile", help="recording → flow files", formatter_class=HelpFormatter)
    c.add_argument("recording", metavar="RECORDING_DIR", help="the folder `shop --record` wrote")
    c.add_argument("--out", metavar="FLOWS_DIR", required=True, help="where to write <service>.flow.yaml")
    c.add_argument(
        "--target", metavar="PROFILE", help="the portal's profile: its `flows:` rules and name are used"
    )
    c.add_argument(
        "--include-failed",
        action="store_true",
        help="also compile journeys that failed while recording (their flows stop where they did)",
    )
    c.set_defaults(func=run_compile)
    k = verbs.add_parser(
        "check", help="validate flow files and show what they send", formatter_class=HelpFormatter
    )
    k.add_argument("flows", metavar="FLOWS_DIR")
    k.add_argument(
        "--target", metavar="PROFILE", help="also check the origins the flows visit are the profile's"
    )
    k.set_defaults(func=run_check)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _profile(target: str | None):  # type: ignore[no-untyped-def]
    if not target:
        return None
    from dvcwatch.core.profile import load_profile

    return load_profile(target)


def run_compile(args: argparse.Namespace) -> int:
    from dvcwatch import __version__
    from dvcwatch.core.flows import load_flow
    from dvcwatch.core.flows.compile import compile_recordings

    profile = _profile(args.target)
    written = compile_recordings(
        args.recording,
        args.out,
        rules=profile.flows if profile is not None else None,
        profile_name=profile.name if profile is not None else None,
        version=__version__,
        step_pages=profile.journey.steps_serving if profile is not None else None,
        on_warning=lambda w: print(f"warning: {w}", file=sys.stderr),
        include_failed=args.include_failed,
    )
    for path in written:
        print(f"{path}  {_summary(load_flow(path))}")
    print(f"{len(written)} flow(s) in {Path(args.out)}; review them with `dvcwatch flows check {args.out}`")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.core.flows import load_flows

    flows = load_flows(args.flows)
    profile = _profile(args.target)
    for service, flow in flows.items():
        print(f"{service}: {_summary(flow)}")
        for step in flow.steps:
            for req in step.requests:
                names = ", ".join(e.name for e in req.extract)
                print(f"  {step.step:<13} {req.label}" + (f"  → {names}" if names else ""))
        if profile is not None:
            roles = {"base", *profile.origins}
            for step in flow.steps:
                for req in step.requests:
                    origin = req.url.split("}", 1)[0] + "}" if req.url.startswith("${") else req.url
                    role = origin[2:-1].removeprefix("origin.") if origin.startswith("${origin.") else None
                    if role is not None and role not in roles:
                        raise ConfigError(
                            f"{service}: {req.label} goes to origins.{role}, which the profile does not have",
                            path=args.target,
                            field="origins",
                        )
                    if not req.url.startswith("${"):
                        raise ConfigError(
                            f"{service}: {req.label} goes to a fixed address ({req.url.split('/')[2]}), "
                            "not one of the profile's origins",
                            path=args.target,
                            field="origins",
                        )
    print(f"{len(flows)} flow(s) ok")
    return 0


def _summary(flow: Flow) -> str:
    reqs = [r for s in flow.steps for r in s.requests]
    extracts = sum(len(r.extract) for r in reqs)
    steps = list(dict.fromkeys(s.step for s in flow.steps))
    return (
        f"{len(reqs)} requests, {extracts} extractions, params {len(flow.params)}, steps {' → '.join(steps)}"
    )
