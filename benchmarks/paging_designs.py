"""How often each paging design pages, and how fast, on the same simulated runs (issue #28 item 4).

Each design is a clock (probe interval and timeout, scrape and evaluation interval), the `for:` of the
portal-down and vantage-down alerts, the vantages that must agree, and Alertmanager's group_wait for
pages. Its rules are generated from alerts/slo.yaml with those values and run by promtool over
simulated series (alerts/paging_sim.py: staggered probe slots with 10 % jitter, each prober scraped at
its own phase), so every design sees the same runs:

  healthy      10 minutes, one failed scrape in a hundred
  slow 1/50    10 minutes, each probe independently times out once in fifty
  stall 1/50   10 minutes, one probe round in fifty of a vantage stalls (every probe in it times out)
  blip 1/50    10 minutes, one probe round in fifty of a vantage, its link blips (every probe in it is
               refused at once, so each failure stays visible for a whole interval, not ~1 s)
  hang / cut   the whole portal hangs, or the ward's link is cut, 60 s in: fault → rule firing, and
               fault → notification (plus group_wait)

Counted: pages (separate firings of page-severity alerts) and alerts of any kind (tickets too).
Run: .venv/bin/python benchmarks/paging_designs.py [--seeds 3]
Prints a table, then as the LAST line one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.config import load_config  # noqa: E402
from alerts.paging_sim import Scenario, Timing, run  # noqa: E402
from alerts.rulegen import generate  # noqa: E402
from dvcwatch.core.catalog import load_catalog  # noqa: E402
from dvcwatch.core.processes import binary  # noqa: E402


@dataclass(frozen=True)
class Design:
    name: str
    timing: Timing
    for_: str
    agree: int
    group_wait: float


DESIGNS = (
    Design("before: 10 s probes, for 30 s, wait 10 s", Timing(10, 5, 10), "30s", 1, 10),
    Design("5 s probes, page on the first failed round", Timing(5, 4, 5), "0s", 1, 1),
    Design("after: 5 s, two rounds, 2 vantages, wait 1 s", Timing(5, 4, 5), "5s", 2, 1),
)
QUIET = (
    Scenario("healthy", missed_scrape_one_in=100),
    Scenario("slow 1/50", slow_one_in=50),
    Scenario("stall 1/50", stall_one_in=50),
    Scenario("blip 1/50", blip_one_in=50),
)
FAULTS = (Scenario("hang", seconds=150, fault="hang"), Scenario("cut", seconds=150, fault="cut"))
PAGED_BY = {"hang": "DvcPortalDown", "cut": "DvcVantageLinkDown"}


def rules_for(design: Design) -> dict:
    cfg = load_config()
    cfg = cfg.model_copy(
        update={
            "portal_down": cfg.portal_down.model_copy(update={"for_": design.for_, "agree": design.agree}),
            "vantage_down": cfg.vantage_down.model_copy(update={"for_": design.for_}),
        }
    )
    return generate(cfg, [s.id for s in load_catalog().services])


def page_names(rules: dict) -> set[str]:
    return {
        r["alert"]
        for content in rules.values()
        for g in content["groups"]
        for r in g["rules"]
        if "alert" in r and r["labels"]["severity"] == "page"
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="runs of each scenario per design (default 3)")
    args = ap.parse_args()
    promtool = binary("promtool")
    figures: list[dict] = []
    for design in DESIGNS:
        rules = rules_for(design)
        pages = page_names(rules)
        row: dict = {"design": design.name}
        for sc in QUIET:
            n_pages = n_alerts = 0
            for seed in range(args.seeds):
                fired = run(rules, sc, design.timing, seed, promtool)
                step = design.timing.scrape
                n_pages += sum(fired.episodes(n, step) for n in fired.times if n in pages)
                n_alerts += sum(fired.episodes(n, step) for n in fired.times)
            row[sc.name] = {
                "pages_per_10_min": n_pages / args.seeds,
                "alerts_per_10_min": n_alerts / args.seeds,
            }
        for sc in FAULTS:
            firing = []
            for seed in range(args.seeds):
                fired = run(rules, sc, design.timing, seed, promtool)
                first = fired.first(PAGED_BY[sc.fault], sc.fault_at)
                firing.append(None if first is None else first - sc.fault_at)
            got = [f for f in firing if f is not None]
            row[sc.name] = {
                "firing_seconds": firing,
                "notified_median_seconds": statistics.median(got) + design.group_wait if got else None,
                "notified_max_seconds": max(got) + design.group_wait if got else None,
            }
        figures.append(row)
        print(f"measured: {design.name}", file=sys.stderr, flush=True)

    head = f"{'design':<48}" + "".join(f"{s.name:>14}" for s in QUIET) + f"{'hang':>14}{'cut':>14}"
    print(f"pages per 10 min (alerts of any kind); fault → notification, median / max, {args.seeds} seeds")
    print(head)
    for row in figures:
        cells = "".join(
            f"{row[s.name]['pages_per_10_min']:>8.2f} ({row[s.name]['alerts_per_10_min']:.2f})" for s in QUIET
        )
        for s in FAULTS:
            f = row[s.name]
            cells += (
                f"{f['notified_median_seconds']:>8.0f} / {f['notified_max_seconds']:<3.0f}"
                if f["notified_max_seconds"] is not None
                else f"{'never':>14}"
            )
        print(f"{row['design']:<48}{cells}")
    print(json.dumps({"seeds": args.seeds, "designs": figures}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
