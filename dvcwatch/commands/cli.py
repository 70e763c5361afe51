"""The `dvcwatch` command line.

Each sub-command lives in its own module under `dvcwatch.commands` and is registered here by name,
like blackbox_exporter's prober map: `register(subparsers)` builds its parser (cheaply: heavy imports
wait until it runs) and sets `func`, which returns the exit code. Exit codes: 0 all good, 1 the
portal failed what was checked, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from dvcwatch import __version__
from dvcwatch.core.errors import DvcwatchError

# Order is the order `dvcwatch --help` lists them in.
COMMANDS = (
    "demo",
    "rehearse",
    "catalog",
    "sandbox",
    "shop",
    "follow_up",
    "report",
    "probe",
    "load",
    "alerts",
    "dashboards",
    "stack",
    "profile",
    "flows",
)

EPILOG = """examples:
  dvcwatch demo                       the whole story on the embedded sandbox
  dvcwatch catalog --level full       the fully-online services
  dvcwatch shop --target profile.yaml play the citizen on a real portal
exit codes: 0 ok, 1 the portal failed a check, 2 usage or configuration error"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dvcwatch",
        description="Do citizens really get Vietnam's online public services? Evidence, not promises.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dvcwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        modname = f"dvcwatch.commands.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    err = Console(stderr=True, highlight=False)
    try:
        return int(args.func(args) or 0)
    except DvcwatchError as exc:
        # the message may quote a path, a URL or a portal's words: shown as written, never as markup
        err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
