"""`dvcwatch dashboards`: generate the Grafana dashboards from the catalog, check them, push them."""

from __future__ import annotations

import argparse

from dvcwatch.commands.cli import HelpFormatter

TOKEN_ENV = "DVCWATCH_GRAFANA_TOKEN"

EXAMPLES = f"""examples:
  dvcwatch dashboards generate                 rewrite dashboards/json/ and dashboards/provisioning/
  dvcwatch dashboards generate --check         exit 1 when the committed JSON is stale
  {TOKEN_ENV}=glsa_... dvcwatch dashboards push --url http://127.0.0.1:3000
  dvcwatch dashboards push --url http://127.0.0.1:3000 --token-file ~/.grafana-token
provisioning: point Grafana at dashboards/provisioning/ and set DVCWATCH_DASHBOARDS_DIR and
DVCWATCH_PROMETHEUS_URL in its environment"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboards",
        help="Grafana dashboards (leaders, SRE, load test) generated from the catalog",
        description="Generate, validate and push dvcwatch's Grafana dashboards.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    g = actions.add_parser(
        "generate",
        help="write the JSON and the provisioning YAML",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    g.add_argument("--out", metavar="DIR", help="write JSON here instead of dashboards/json/")
    g.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files differ")
    g.set_defaults(func=run_generate)

    push = actions.add_parser(
        "push", help="upload to a Grafana with grafana-client", epilog=EXAMPLES, formatter_class=HelpFormatter
    )
    push.add_argument("--url", required=True, help="Grafana base URL")
    push.add_argument("--token", help=f"service-account token (prefer ${TOKEN_ENV} or --token-file)")
    push.add_argument("--token-file", metavar="FILE", help="read the token from this file")
    push.set_defaults(func=run_push)


def run_generate(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from rich.console import Console

    from dashboards import JSON_DIR, PROVISIONING_DIR
    from dashboards.build import outputs, write
    from dashboards.schema import problems
    from dvcwatch.core.errors import DvcwatchError

    console = Console(highlight=False)
    files = outputs(Path(args.out) if args.out else JSON_DIR, PROVISIONING_DIR)
    for path, text in files.items():
        if path.suffix == ".json":
            found = problems(json.loads(text))
            if found:
                raise DvcwatchError(f"{path.name} is not a valid dashboard: {found[0]}")
    if args.check:
        stale = [str(p) for p, t in files.items() if not p.exists() or p.read_text(encoding="utf-8") != t]
        if stale:
            console.print(f"[red]stale:[/] {', '.join(stale)} — run `dvcwatch dashboards generate`")
            return 1
        console.print(f"{len(files)} dashboard files are up to date")
        return 0
    for path in write(files):
        console.print(f"wrote {path}")
    return 0


def run_push(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from rich.console import Console

    from dashboards.build import build_all
    from dashboards.push import push
    from dvcwatch.core.errors import ConfigError

    token = args.token or os.environ.get(TOKEN_ENV)
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token: {exc.strerror}", path=args.token_file) from None
    if not token:
        raise ConfigError(f"no Grafana token: give --token, --token-file or set {TOKEN_ENV}")
    if not args.url.startswith(("http://", "https://")):
        raise ConfigError(f"--url {args.url!r}: expected http(s)://host:port")
    urls = push(args.url.rstrip("/"), token, build_all())
    console = Console(highlight=False)
    for u in urls:
        console.print(f"pushed {u}")
    return 0
