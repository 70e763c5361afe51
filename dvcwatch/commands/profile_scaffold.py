"""`dvcwatch profile scaffold PARTIAL --out NEW`: the CLI of the scaffold (arguments, console, file).

The output is the partial profile with a `forms:` block written from the portal, saved only once it
loads as a profile (so what is on disk always loads), and atomically (an interrupted run leaves the
old file, or none). Everything the portal shows is printed escaped: a label is text, never markup.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch profile scaffold partial.yaml --out my-portal.yaml           every service the profile maps
  dvcwatch profile scaffold partial.yaml --out my-portal.yaml --service cap-doi-cccd --service dang-ky-xe
  dvcwatch profile scaffold partial.yaml --out p.yaml --base-url https://dichvucong.example.gov.vn
The partial profile says how to log in (account, OTP source, login selectors), where services are
(services: their procedure codes) and how the e-form is found (selectors: field, form_next,
start_submission); its forms: section, if any, is what is known already. The scaffold logs in once,
opens each service's e-form and writes forms: from what it sees. It never uploads, submits or pays;
on a sandbox or staging profile it fills made-up values into required boxes to reach a wizard's later
pages (only form_next is pressed); in production it reads the first page only.
exit codes: 0 every control, option and document matched: the output passes profile check unedited,
            1 written, but entries under forms.<service>.decide are left for a person (listed; profile
            check names them until they are resolved), or the login or a service's e-form failed,
            2 the profile or the arguments are wrong, 130 Ctrl-C, 129 SIGHUP (a closed terminal): nothing
            written, no browser left (SIGTERM ends it at once, nothing written either)"""

_BASE_URL = re.compile(r"^base_url\s*:.*$", re.M)


def add_parser(actions: argparse._SubParsersAction) -> None:
    s = actions.add_parser(
        "scaffold",
        help="read each service's e-form on the portal and write the profile's forms: (never submits)",
        description=(
            "Log in with the partial profile, open each service's e-form, and write its forms: section: "
            "every control matched to the catalog by label (case and diacritics ignored), unknowns "
            "left under decide: for a person."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    s.add_argument("profile", metavar="PARTIAL", help="a partial target profile YAML (login, services)")
    s.add_argument("--out", metavar="FILE", required=True, help="where the scaffolded profile is written")
    s.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    s.add_argument("--base-url", metavar="URL", help="the portal's base URL (default: the profile's)")
    s.add_argument(
        "--service",
        action="append",
        metavar="ID",
        help="a catalog service to read (repeatable; default: the profile's services:, else all)",
    )
    s.add_argument("--first-page-only", action="store_true", help="read only the first page of each e-form")
    s.add_argument("--step-timeout", type=float, metavar="S", help="seconds to wait for each answer")
    s.add_argument("--persona", default="desktop", metavar="NAME", help="desktop, phone, slow-3g")
    s.add_argument("--catalog", metavar="PATH", help="a catalog YAML other than the built-in one")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from dvcwatch.core.catalog import load_catalog
    from dvcwatch.core.errors import ConfigError, DvcwatchError
    from dvcwatch.core.interrupts import Signalled
    from dvcwatch.core.profile import load_profile
    from playwright_journeys.personas import load_personas
    from playwright_journeys.scaffold.visit import BrowserGone, LoginFailed, VisitConfig, run_visit

    src, out = Path(args.profile), Path(args.out)
    if not src.is_file():
        raise ConfigError("give the partial profile as a YAML file", path=str(src))
    if out.resolve() == src.resolve():
        raise ConfigError("--out must be another file than the partial profile (it is kept as it is)")
    if out.exists() and not args.overwrite:
        raise ConfigError("the output file exists (give --overwrite to replace it)", path=str(out))
    if args.step_timeout is not None and args.step_timeout <= 0:
        raise ConfigError("--step-timeout must be positive")
    if args.base_url and not args.base_url.startswith(("http://", "https://")):
        raise ConfigError("--base-url must start with http:// or https://")
    profile = load_profile(src)  # first: it refuses a file too big or not a regular file before any read
    text = src.read_text(encoding="utf-8")
    if args.base_url:
        text = _BASE_URL.sub(f"base_url: {args.base_url.rstrip('/')}", text, count=1)
        profile = profile.model_copy(update={"base_url": args.base_url.rstrip("/")})
    catalog = load_catalog(args.catalog)
    ids = args.service or list(profile.services) or [s.id for s in catalog.services]
    services = [catalog.service(i) for i in dict.fromkeys(ids)]
    persona = load_personas(None).get(args.persona)
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"[bold]profile scaffold[/] {escape(profile.name)} ({profile.environment}) → "
        f"{escape(profile.base_url)}: {len(services)} service(s); it reads only: nothing is uploaded, "
        "submitted or paid"
        + (
            " (production: reading is allowed; only the first page of each e-form is read)"
            if profile.environment == "production"
            else ""
        )
    )
    cfg = VisitConfig(
        profile,
        catalog,
        services,
        persona,
        args.step_timeout or profile.journey.step_timeout_seconds,
        src.parent,
        args.first_page_only,
    )
    try:
        readings = _visit_with_progress(console, cfg, run_visit)
    except LoginFailed as exc:
        console.print(f"[red]FAILED[/] to log in, nothing was read: {escape(str(exc))}")
        return 1
    except BrowserGone as exc:  # dvcwatch's browser, not the portal: nothing written, not exit 1
        raise DvcwatchError(f"{exc}; nothing was written") from None
    except Signalled as exc:
        console.print(f"{exc}; nothing was written")
        return exc.exit_code
    return _write(console, profile, catalog, text, readings, services, src, out)


def _visit_with_progress(console, cfg, run_visit):  # type: ignore[no-untyped-def]
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("logging in …", total=len(cfg.services))

        def progress(sid: str, reading) -> None:  # type: ignore[no-untyped-def]
            if reading is None:
                bar.update(task, description=f"reading {escape(sid)} …")
                return
            bar.advance(task)
            if reading.error:
                bar.console.print(f"  [red]✘[/] {escape(sid)}: {escape(reading.error)}")
            else:
                pages = len(reading.pages)
                more = "" if reading.all_pages else f"; {reading.stopped}"
                bar.console.print(
                    f"  [green]✔[/] {escape(sid)}: {len(reading.controls)} control(s), "
                    f"{len(reading.slots)} document slot(s) on {pages} page(s){escape(more)}"
                )

        return run_visit(cfg, progress)


def _write(console, profile, catalog, text, readings, services, src: Path, out: Path) -> int:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    from dvcwatch.core.profile import DEFAULT_FORM, load_profile
    from playwright_journeys.scaffold.draft import draft_section
    from playwright_journeys.scaffold.writer import render_forms, replace_forms

    drafts = [draft_section(catalog, profile, r) for r in readings]
    visited = {d.service_id for d in drafts}
    kept = {sid: profile.form_for(sid) for sid in profile.forms if sid != DEFAULT_FORM and sid not in visited}
    every = {s.id for s in catalog.services} <= visited | set(kept)
    if not every and DEFAULT_FORM in profile.forms:  # services in neither still rely on it
        kept = {DEFAULT_FORM: profile.forms[DEFAULT_FORM], **kept}
    header = [
        f"written by `dvcwatch profile scaffold` on {time.strftime('%Y-%m-%d %H:%M')} from "
        f"{profile.base_url}: entries that matched need no edit; each entry under decide: is for a person",
        "(map it, mark it absent or give it a value, then delete it); `profile check` names those left.",
    ]
    block = render_forms(drafts, kept, every, header)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(replace_forms(text, block), encoding="utf-8")
        written = load_profile(tmp)  # what is written always loads; a failure here is the scaffold's own bug
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    # counted in the file as written (entries every service shares are there once, under default), so
    # the console's count is the one `profile check` gives
    undecided = [(sid, k, v) for sid, form in written.forms.items() for k, v in form.decide.items()]
    failed = [d.service_id for d in drafts if "e-form" in d.section.decide]
    if undecided:
        console.print(
            f"[bold]left for a person to decide[/] ({len(undecided)}), under forms.<service>.decide:"
        )
        for sid, what, why in undecided:
            console.print(f"  [yellow]?[/] {escape(sid)}: {escape(what)}\n      {escape(why)}")
    matched = sum(len(d.matched) for d in drafts)
    console.print(
        f"written {escape(str(out))}: {matched} catalog field(s) matched on {len(drafts)} service(s)"
        + (f"; {len(failed)} e-form(s) could not be read" if failed else "")
    )
    if undecided:
        console.print(
            f"[yellow]{len(undecided)} entr{'y' if len(undecided) == 1 else 'ies'} to decide[/]: "
            f"`dvcwatch profile check {escape(str(out))}` names them until they are resolved"
        )
        return 1
    console.print(f"[green]OK[/]: every control matched; next: dvcwatch profile check {escape(str(out))}")
    return 0
