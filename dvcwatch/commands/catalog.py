"""`dvcwatch catalog`: the 25 services as the harness understands them."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from dvcwatch.commands.cli import HelpFormatter

if TYPE_CHECKING:
    from dvcwatch.core.catalog.models import Catalog, FormField, Service

EXAMPLES = """examples:
  dvcwatch catalog                          all 25 services
  dvcwatch catalog --agency justice --level full
  dvcwatch catalog --service dang-ky-khai-sinh
  dvcwatch catalog --json | jq '.[].id'"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "catalog",
        help="list the 25 essential services (Project 06)",
        description="List the services dvcwatch tests, from the YAML catalog (a district may correct it).",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--service", metavar="ID", help="show one service in full")
    p.add_argument("--agency", metavar="ID", help="only this agency (mps, justice, ...)")
    p.add_argument("--level", choices=["full", "partial"], help="only this level")
    p.add_argument("--json", action="store_true", help="print JSON for other tools")
    p.add_argument("--file", metavar="PATH", help="a catalog YAML other than the built-in one")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dvcwatch.core.catalog import load_catalog

    cat = load_catalog(args.file)
    services = _chosen(cat, args)
    if args.json:
        data = services[0].model_dump() if args.service else [_json_row(s) for s in services]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    elif args.service:
        _print_service(cat, services[0])
    else:
        _print_table(services)
    return 0


def _chosen(cat: Catalog, args: argparse.Namespace) -> list[Service]:
    """The services the filters leave (--service, --agency, --level), in catalog order."""
    from dvcwatch.core.errors import ConfigError

    services = list(cat.services)
    if args.service:
        services = [cat.service(args.service)]
    if args.agency:
        if args.agency not in {a.id for a in cat.agencies}:
            raise ConfigError(
                f"unknown agency {args.agency!r}; one of {', '.join(a.id for a in cat.agencies)}"
            )
        services = [s for s in services if s.agency == args.agency]
    if args.level:
        services = [s for s in services if s.level == args.level]
    return services


def _json_row(s: Service) -> dict[str, Any]:
    return {
        "id": s.id,
        "name_vi": s.name_vi,
        "name_en": s.name_en,
        "agency": s.agency,
        "level": s.level,
        "fee": s.fee.amount,
        "processing_days": s.processing_time.days,
        "volume_weight": s.volume.weight,
        "codes": [c.code for c in s.codes],
    }


def _print_service(cat: Catalog, s: Service) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{s.name_vi}[/]\n{s.name_en}  ([cyan]{s.id}[/])")
    console.print(
        f"agency: {cat.agency(s.agency).name_vi} · level: {s.level} · fee: {s.fee.amount:,} VND · "
        f"processing: {s.processing_time.days:g} {s.processing_time.unit}"
    )
    t = Table("field", "label", "type", "required", "rule or options")
    for f in cat.all_fields(s):
        t.add_row(f.name, f.label_vi, f.type, "yes" if f.required else "no", _rule_or_options(f))
    console.print(t)
    d = Table("document", "name", "types", "required")
    for doc in s.documents:
        d.add_row(doc.id, doc.name_vi, ", ".join(doc.types), "yes" if doc.required else "no")
    console.print(d)


def _rule_or_options(f: FormField) -> str:
    """A select's options in full: they are the words a portal's own options (or, where the portal has
    a text box, the words typed) are mapped from under `forms.<service>.fields.<field>.options`."""
    if f.options:
        return " · ".join(escape(o) for o in f.options)
    return escape(f.rule() or "")


def _print_table(services: list[Service]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title=f"{len(services)} services", show_lines=False)
    for col in ("id", "tên dịch vụ", "agency", "level", "fee (VND)", "weight"):
        t.add_column(col)
    for s in services:
        t.add_row(
            s.id,
            s.name_vi if len(s.name_vi) < 60 else s.name_vi[:57] + "…",
            s.agency,
            s.level,
            f"{s.fee.amount:,}",
            f"{s.volume.weight:g}{'*' if s.volume.source == 'estimate' else ''}",
        )
    console.print(t)
    console.print("* weight is an estimate; others are Hanoi 2022 field figures")
