"""`dvcwatch profile check`: does this target profile still fit its portal? Step by step, never submitting."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch profile check my-portal.yaml                              one service, step by step
  dvcwatch profile check my-portal.yaml --service dang-ky-khai-sinh --step-timeout 30
  dvcwatch profile check http://127.0.0.1:8480                       the sandbox profile at that address
  dvcwatch profile check staging.yaml --through result               files one dossier: proves payment,
                                                                     receipt, tracking and result too
It opens the portal as a citizen would, logs in with the profile's account and OTP source, and by
default stops at the last reversible point (the filled form or the payment page): it submits nothing
and pays nothing, whatever the profile's environment. The selectors the journeys use beyond that point
are listed as not verified; `--through result` (sandbox and staging profiles only) goes on to the end.
exit codes: 0 every URL and every selector the journeys use was found (in production: up to the last
            reversible point, where production journeys stop), 1 one was not found or not verified
            (the step and selector are named, with a screenshot), 2 the profile or the arguments are
            wrong"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="check a target profile against its portal (never submits)",
        description="Tools for target profiles (docs/real-portals.md).",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = actions.add_parser(
        "check",
        help="walk one service step by step and report which URLs and selectors resolve",
        description=(
            "Walk one service with the profile, step by step, reporting which URLs and selectors "
            "resolve; stops at the last reversible point, never submitting or paying."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    c.add_argument("profile", metavar="PROFILE", help="a target profile YAML (or a sandbox base URL)")
    c.add_argument("--service", metavar="ID", help="the catalog service to walk (default: the first mapped)")
    c.add_argument(
        "--step-timeout",
        type=float,
        metavar="S",
        help="seconds to wait for each answer of the portal (default: the profile's)",
    )
    c.add_argument(
        "--through",
        choices=["last-reversible", "result"],
        default="last-reversible",
        help="how far to go: the last reversible point (default, files nothing) or the result "
        "(files and pays one dossier; sandbox and staging profiles only)",
    )
    c.add_argument("--persona", default="desktop", metavar="NAME", help="desktop, phone, slow-3g")
    c.add_argument(
        "--out", metavar="DIR", help="where screenshots go (default results/profile-check-<time>/)"
    )
    c.add_argument("--catalog", metavar="PATH", help="a catalog YAML other than the built-in one")
    from dvcwatch.commands.profile_scaffold import add_parser as add_scaffold

    add_scaffold(actions)  # `profile scaffold`: writes the forms: sections (its own module)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from dvcwatch.core.catalog import load_catalog
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.core.profile import load_profile
    from dvcwatch.core.target import resolve_target
    from playwright_journeys.doctor import check_profile, pick_service
    from playwright_journeys.personas import load_personas

    if args.step_timeout is not None and args.step_timeout <= 0:
        raise ConfigError("--step-timeout must be positive")
    profile = load_profile(args.profile)
    catalog = load_catalog(args.catalog)
    service = pick_service(profile, catalog, args.service)
    persona = load_personas(None).get(args.persona)
    out = Path(args.out) if args.out else Path("results") / time.strftime("profile-check-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    console = Console(highlight=False, soft_wrap=True)
    filing = args.through == "result"
    console.print(
        f"[bold]profile check[/] {escape(profile.name)} ({profile.environment}) → {escape(profile.base_url)}\n"
        f"service {service.id} (procedure code {profile.code_of(service)}); "
        + (
            "through the result: files and pays one dossier"
            if filing
            else "looking only, nothing is submitted"
        )
    )
    with console.status("walking the service …"):
        report = check_profile(
            profile,
            catalog,
            service,
            persona,
            out,
            step_timeout=args.step_timeout,
            profile_dir=resolve_target(args.profile).profile_dir,
            through=args.through,
        )
    _print(console, report, out)
    return 0 if report.ok else 1


def _print(console, report, out: Path) -> None:  # type: ignore[no-untyped-def]
    """What `profile check` found: bad selectors, URLs, each step, what it never reached, the verdict."""
    _print_bad_selectors(console, report)
    _print_urls(console, report)
    _print_steps(console, report, out)
    _print_unverified(console, report)
    _print_verdict(console, report)


def _print_bad_selectors(console, report) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    if report.bad_selectors:
        console.print("[bold]selectors that do not parse[/] (a harness or profile error on every page)")
        for where, why in report.bad_selectors:
            console.print(f"  [red]✘[/] {escape(where)}  {escape(why)}")


def _print_urls(console, report) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    console.print("[bold]URLs[/]")
    for u in report.urls:
        mark = "[green]✔[/]" if u.ok else "[red]✘[/]"
        console.print(
            f"  {mark} {u.what:<9} {u.status or '---'}  {escape(u.url)}"
            + (f"  {escape(u.problem)}" if u.problem else "")
        )


def _print_steps(console, report, out: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    console.print("[bold]steps[/]")
    r = report.result
    for st in r.steps if r else []:
        mark = {"passed": "[green]✔[/]", "failed": "[red]✘[/]", "skipped": "[yellow]–[/]"}.get(
            st.status, "[dim]·[/]"
        )
        console.print(f"  {mark} {st.name:<13} {st.status:<8} {escape(st.detail)}")
        for sel in report.resolved.get(st.name, []):
            console.print(f"      [dim]found[/] {escape(sel)}")
        if st.status == "failed" and r.failure:
            _print_failure(console, r, out)


def _print_failure(console, r, out: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    from playwright_journeys.outcome import without_blame

    if r.verdict == "error":
        console.print(f"      [red]harness or profile error[/] {escape(without_blame(r.failure.message))}")
    elif r.failure.selector:
        console.print(f"      [red]not found[/] {escape(r.failure.selector)}")
    if r.failure.url:
        console.print(f"      at {escape(r.failure.url)}")
    if r.artifacts.screenshot:
        console.print(f"      screenshot: {escape(str(out / r.artifacts.screenshot))}")


def _print_unverified(console, report) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    if report.unverified:
        why = (
            "production journeys stop at the last reversible point and never use them"
            if not report.unverified_matter
            else "run with --through result on a sandbox or staging profile to prove them"
        )
        console.print(f"[bold]not verified[/] ({why}):")
        for step, name in report.unverified:
            console.print(f"  [yellow]?[/] {step:<13} {escape(name)}")


def _print_verdict(console, report) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    from playwright_journeys.outcome import without_blame

    r = report.result
    if report.ok:
        console.print(
            f"[green]OK[/]: checked to {r.checked_to or 'the end'}; every URL and selector "
            + (
                "the journeys use up to there was found"
                if report.unverified
                else "the journeys use was found"
            )
        )
        return
    if r is not None and r.verdict == "error":
        at = f" at step {r.failed_step}" if r.failed_step else ""
        message = without_blame(r.failure.message) if r.failure else ""
        console.print(f"[red]FAILED[/]{at}: a harness or profile error, not the portal: {escape(message)}")
    elif r is not None and r.failed_step:
        what = (
            r.failure.selector
            if r.failure and r.failure.selector
            else (r.failure.message if r.failure else "")
        )
        console.print(f"[red]FAILED[/] at step {r.failed_step}: {escape(what)}")
    elif report.unverified_matter:
        console.print(
            f"[red]NOT VERIFIED[/]: {len(report.unverified)} selector(s) the journeys use were never reached "
            f"(checked to {r.checked_to if r else '?'})"
        )
    if report.bad_selectors:
        console.print(f"[red]FAILED[/]: {len(report.bad_selectors)} selector(s) do not parse (listed above)")
    for u in [u for u in report.urls if not u.ok]:
        console.print(f"[red]FAILED[/] URL {u.what} {escape(u.url)}: {escape(u.problem)}")
