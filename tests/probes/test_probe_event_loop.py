"""The prober process runs on uvloop when it is installed, and on the standard loop when told to;
either way every phase and the certificate's expiry reach `/probe`."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prober_process import start_prober
from prometheus_client.parser import text_string_to_metric_families

from dvcwatch.commands.cli import main
from dvcwatch.core.processes import free_port, wait_http


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_every_phase_and_the_certificate_reach_probe_on_either_loop(
    loop: str, tls_portal, self_signed, cert_expiry: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("uvloop")
    if loop == "asyncio":
        monkeypatch.setenv("DVCWATCH_PROBER_LOOP", "asyncio")
    else:
        monkeypatch.delenv("DVCWATCH_PROBER_LOOP", raising=False)  # the default
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(
        "vantage: kiosk-1\nprobe_only: true\n"
        f"modules:\n  https_ok: {{kind: http, ca_file: '{self_signed[0]}'}}\n"
    )
    port, log = free_port(), tmp_path / "prober.log"
    proc = start_prober(cfg, port, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/-/healthy", timeout=20, proc=proc)
        url = f"{base}/probe?target={tls_portal.url}/ok&module=https_ok"
        with urllib.request.urlopen(url, timeout=30) as r:
            got = _samples(r.read().decode())
    finally:
        proc.terminate()
        proc.wait(10)
    assert got[("probe_success", ())] == 1.0
    v = (("vantage", "kiosk-1"),)
    for phase in ("connect", "tls", "ttfb", "transfer"):
        assert got[("dvc_probe_phase_duration_seconds", (("phase", phase), *v))] > 0, phase
    assert got[("dvc_probe_tls_expiry_timestamp_seconds", v)] == cert_expiry
    assert f"(event loop: {loop})" in log.read_text()


def test_an_unknown_loop_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text("probe_only: true\n")
    monkeypatch.setenv("DVCWATCH_PROBER_LOOP", "trio")
    assert main(["probe", "--config", str(cfg), "--listen", f"127.0.0.1:{free_port()}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "DVCWATCH_PROBER_LOOP='trio'" in err and "uvloop, asyncio" in err
