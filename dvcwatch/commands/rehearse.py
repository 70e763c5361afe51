"""`dvcwatch rehearse`: a seeded random fault campaign scored per instrument."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvcwatch.commands.cli import HelpFormatter

if TYPE_CHECKING:
    from rich.console import Console

    from dvcwatch.orchestration.rehearse import Matrix, PlacedFault

EXAMPLES = """examples:
  dvcwatch rehearse                       a random campaign (the seed is printed: rerun it with --seed)
  dvcwatch rehearse --seed 7 --faults 8   a bigger campaign, reproducible
  dvcwatch rehearse --pool my-pool.yaml   draw from your own list of fault kinds and steps
exit codes: 0 every placed fault found at its service and step and no false alarm,
            1 a miss, a fault found at the wrong step, or a false alarm, 2 usage or configuration error"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rehearse",
        help="prove the harness: random faults in, confusion matrix out",
        description=(
            "Start the sandbox with a seeded random campaign of faults, run the mystery shopper over all 25 "
            "services and one round of probes, and score each instrument: faults found at the right service "
            "and step, found at the wrong step, missed, and false alarms on healthy services."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--seed", type=int, help="campaign seed (default: random, printed)")
    p.add_argument(
        "--faults", type=int, metavar="K", help="how many services get a fault (default from the pool)"
    )
    p.add_argument(
        "--pool", type=Path, help="fault pool YAML (default dvcwatch/orchestration/scenarios/rehearse.yaml)"
    )
    p.add_argument("--parallel", type=int, default=4, help="browser contexts at once (default 4)")
    p.add_argument("--out", type=Path, help="output folder (default results/rehearse-<seed>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from dvcwatch.core.catalog import load_catalog
    from dvcwatch.core.errors import ConfigError
    from dvcwatch.orchestration.rehearse import campaign, load_pool, score_journeys, score_probes

    console = Console()
    catalog = load_catalog()
    pool = load_pool(args.pool)
    if args.faults is not None and not 1 <= args.faults <= len(catalog.services):
        raise ConfigError(f"--faults must be between 1 and {len(catalog.services)}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    placed = campaign(seed, catalog, pool, args.faults)
    out = (args.out or Path("results") / f"rehearse-{seed}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    faults_file = _write_campaign(out, seed, placed)
    _print_campaign(console, seed, placed)
    probe_rows, journey_rows = _observe(console, faults_file, out, pool.step_timeout_seconds, args.parallel)
    matrices = [score_journeys(placed, journey_rows), score_probes(placed, probe_rows, catalog)]
    _print_matrices(console, matrices)
    report = {
        "seed": seed,
        "campaign": [f.as_fault() for f in placed],
        "instruments": [m.as_dict() for m in matrices],
    }
    (out / "rehearse.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    ok = all(m.clean for m in matrices)
    verdict = (
        "[green]every placed fault found, no false alarm[/]" if ok else "[red]the harness missed something[/]"
    )
    console.print(f"{verdict} · details: {out / 'rehearse.json'}")
    return 0 if ok else 1


def _write_campaign(out: Path, seed: int, placed: list[PlacedFault]) -> Path:
    """The campaign as a faults file, beside the results: the sandbox reads it, a person can rerun it."""
    import yaml

    faults_file = out / "campaign.yaml"
    faults_file.write_text(
        yaml.safe_dump(
            {"name": f"rehearse-{seed}", "faults": [f.as_fault() for f in placed]},
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return faults_file


def _print_campaign(console: Console, seed: int, placed: list[PlacedFault]) -> None:
    from rich.table import Table

    t = Table(title=f"campaign, seed {seed} (rerun: dvcwatch rehearse --seed {seed})")
    for col in ("service", "fault", "step", "parameters"):
        t.add_column(col)
    for f in placed:
        t.add_row(f.service, f.kind, f.step or "-", ", ".join(f"{k}={v}" for k, v in f.params.items()))
    console.print(t)


def _observe(
    console: Console, faults_file: Path, out: Path, step_timeout: float, parallel: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One round of probes and one sweep of journeys against a sandbox holding the campaign's faults."""
    from dvcwatch.orchestration.rehearse import run_journeys, run_probes_once
    from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox

    with EmbeddedSandbox(faults=faults_file, log_path=out / "sandbox.log") as sandbox:
        assert sandbox.url
        with console.status("probes: one round of the standard probe set"):
            probe_rows = run_probes_once(sandbox.url, out)
        with console.status("journeys: the mystery shopper over all 25 services"):
            journey_rows = run_journeys(sandbox.url, out, step_timeout, parallel)
    return probe_rows, journey_rows


def _print_matrices(console: Console, matrices: list[Matrix]) -> None:
    from rich.table import Table

    table = Table(title="confusion matrix per instrument")
    for col in (
        "instrument",
        "found",
        "wrong step",
        "missed",
        "false alarms",
        "healthy & quiet",
        "not observable",
    ):
        table.add_column(col)
    for m in matrices:
        table.add_row(
            m.instrument,
            str(len(m.found)),
            str(len(m.wrong_step)),
            str(len(m.missed)),
            str(len(m.false_alarms)),
            str(m.quiet_ok),
            str(len(m.out_of_scope)),
        )
    console.print(table)
    for m in matrices:
        for label, items in (
            ("wrong step", m.wrong_step),
            ("missed", m.missed),
            ("false alarm", m.false_alarms),
        ):
            for item in items:
                console.print(f"[red]{m.instrument} {label}:[/] {item}")
