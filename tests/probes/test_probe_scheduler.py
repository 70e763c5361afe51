"""A third of the targets hanging must not delay the rest: measured from the outside, by when the
portal saw each probe and by the prober's own metrics."""

from __future__ import annotations

import itertools
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from probes.prober import Prober

INTERVAL = 0.5
RUN = 3.2


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_hanging_third_does_not_delay_the_others(portal, tmp_path: Path, loop_stalls) -> None:
    healthy = [f"/ok{i}" for i in range(8)]
    hanging = [f"/hang{i}" for i in range(4)]
    targets = "".join(
        f"  - {{name: t{path[1:]}, module: http_2xx, url: '{portal.url}{path}'}}\n"
        for path in healthy + hanging
    )
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(
        f"vantage: test\nconcurrency: 8\nlate_after: 250ms\n"
        f"defaults: {{interval: {INTERVAL}, timeout: 0.3, jitter: 0.1}}\ntargets:\n{targets}"
    )
    prober = Prober(cfg, port=0)
    await prober.run(duration=RUN)
    stalls = loop_stalls
    m = samples(generate_latest(prober.registry).decode())

    for path in healthy:
        hits = portal.hits[path]
        # every slot in the run was probed (the first slot is spread within the first interval)
        assert len(hits) >= int((RUN - INTERVAL) / INTERVAL), (path, len(hits))
        gaps = [b - a for a, b in itertools.pairwise(hits)]
        # one slot plus jitter, with slack for a loaded CI box; a hang holding up the schedule would add
        # its 0.3 s timeout to every gap, a serial one 1.2 s; a stall of the whole loop adds to one gap
        assert max(gaps) < INTERVAL * 1.1 + 0.25 + stalls.longest(), (path, gaps)
        assert (
            m[("dvc_probe_success", (("service", ""), ("target", f"t{path[1:]}"), ("vantage", "test")))] == 1
        )
    for path in hanging:
        assert len(portal.hits[path]) >= int((RUN - INTERVAL) / INTERVAL)
        assert (
            m[("dvc_probe_success", (("service", ""), ("target", f"t{path[1:]}"), ("vantage", "test")))] == 0
        )
        assert (
            m[
                (
                    "dvc_probe_http_status_code",
                    (("service", ""), ("target", f"t{path[1:]}"), ("vantage", "test")),
                )
            ]
            == 0
        )
    # a late or dropped start is the prober's fault unless the whole loop stalled at that moment (a busy CI
    # neighbour); each such stall may delay at most every target once. Hangs holding concurrency slots
    # would make probes late while the loop runs freely, and fail this.
    excused = len(healthy + hanging) * stalls.count(longer_than=0.1)
    late = m[("dvc_prober_probes_late_total", (("vantage", "test"),))]
    dropped = m[("dvc_prober_probes_dropped_total", (("vantage", "test"),))]
    assert late + dropped <= excused, (late, dropped, sorted(stalls.lags)[-5:])
    assert m[("dvc_prober_targets", (("vantage", "test"),))] == 12
    failures = m[("dvc_prober_probes_total", (("result", "failure"), ("vantage", "test")))]
    started = sum(len(portal.hits[p]) for p in hanging)
    assert started - len(hanging) <= failures <= started  # runs cut short by the stop are not counted


async def test_timeout_as_long_as_interval_drops_slots(portal, tmp_path: Path) -> None:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(
        f"vantage: test\ntargets:\n  - {{name: h, module: http_2xx, url: '{portal.url}/hang', "
        "interval: 0.3, timeout: 0.3, jitter: 0}\n"
    )
    prober = Prober(cfg, port=0)
    await prober.run(duration=1.5)
    m = samples(generate_latest(prober.registry).decode())
    assert m[("dvc_prober_probes_dropped_total", (("vantage", "test"),))] >= 1
