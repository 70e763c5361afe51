"""`dvcwatch probe` from the outside: the CLI, /metrics, /probe, and reloads that keep the prober alive."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from prober_process import start_prober
from prometheus_client.parser import text_string_to_metric_families

from dvcwatch.commands.cli import main
from dvcwatch.core.processes import free_port, wait_http
from probes.config import load_config


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metrics(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(get(base + "/metrics")[1]):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def lbl(target: str, vantage: str = "phuong-vinh-hung", service: str = "") -> tuple[tuple[str, str], ...]:
    return (("service", service), ("target", target), ("vantage", vantage))


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def config_text(portal_url: str, *paths: str, interval: float = 0.3, timeout: float = 0.25) -> str:
    """Short rounds by default, so reload tests see several; a test that judges one round gives it a
    timeout that only a broken run reaches."""
    targets = "".join(
        f"  - {{name: {p.strip('/')}, module: portal_page, url: '{portal_url}{p}'}}\n" for p in paths
    )
    defaults = f"{{interval: {interval}, timeout: {timeout}}}"
    return f"vantage: phuong-vinh-hung\ndefaults: {defaults}\ntargets:\n{targets}"


@pytest.fixture
def prober_proc(tmp_path: Path) -> Iterator[Callable[[Path, list[str]], tuple[subprocess.Popen[bytes], str]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(cfg: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        proc = start_prober(cfg, port, tmp_path / f"prober{len(procs)}.log", *extra)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/-/healthy", timeout=20, proc=proc)
        return proc, base

    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(10)


def test_metrics_reload_and_rejected_config(portal, tmp_path: Path, prober_proc) -> None:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(config_text(portal.url, "/ok", "/soft", "/fail"))
    proc, base = prober_proc(cfg, [])
    # a round may time out on a busy machine; the next one answers: wait for the state, not the first round
    wait_for(lambda: metrics(base).get(("dvc_probe_success", lbl("ok"))) == 1)
    wait_for(lambda: all(("dvc_probe_success", lbl(t)) in metrics(base) for t in ("soft", "fail")))
    m = metrics(base)
    assert m[("dvc_probe_success", lbl("soft"))] == 0
    assert m[("dvc_probe_content_match", lbl("soft"))] == 0
    assert m[("dvc_probe_http_status_code", lbl("soft"))] == 200
    assert m[("dvc_probe_http_status_code", lbl("fail"))] == 503
    assert m[("dvc_probe_duration_seconds_count", (("phase", "ttfb"), *lbl("ok")))] >= 1
    assert m[("dvc_prober_targets", (("vantage", "phuong-vinh-hung"),))] == 3

    # an invalid file is rejected; the old targets keep being probed
    cfg.write_text(
        config_text(portal.url, "/ok") + "  - {name: x, module: http_2xx, url: 'http://x/', interval: soon}\n"
    )
    failure = ("dvc_prober_config_reloads_total", (("result", "failure"), ("vantage", "phuong-vinh-hung")))
    wait_for(lambda: metrics(base)[failure] == 1)
    before = len(portal.hits["/fail"])
    wait_for(lambda: len(portal.hits["/fail"]) > before + 1)
    assert metrics(base)[("dvc_prober_targets", (("vantage", "phuong-vinh-hung"),))] == 3
    status, text = get(base + "/")
    assert status == 200 and "3 targets" in text

    # a valid change applies: /fail goes (with its series), /json comes, /ok keeps its history
    ok_count = ("dvc_probe_duration_seconds_count", (("phase", "total"), *lbl("ok")))
    kept = metrics(base)[ok_count]
    cfg.write_text(config_text(portal.url, "/ok", "/json"))
    success = ("dvc_prober_config_reloads_total", (("result", "success"), ("vantage", "phuong-vinh-hung")))
    wait_for(lambda: metrics(base)[success] == 1)
    wait_for(lambda: ("dvc_probe_success", lbl("json")) in metrics(base))
    m = metrics(base)
    assert ("dvc_probe_success", lbl("fail")) not in m
    assert m[ok_count] >= kept

    # SIGHUP reloads too
    os.kill(proc.pid, signal.SIGHUP)
    wait_for(lambda: metrics(base)[success] == 2)
    assert proc.poll() is None
    log = (tmp_path / "prober0.log").read_text()
    assert "rejected" in log and "probes.yaml:5: targets[1](x).interval: " in log


RELOAD_OK = ("dvc_prober_config_last_reload_successful", (("vantage", "phuong-vinh-hung"),))
RELOAD_FAILURES = (
    "dvc_prober_config_reloads_total",
    (("result", "failure"), ("vantage", "phuong-vinh-hung")),
)


def _keeps_old_config(proc, base: str, portal, names: tuple[str, ...], failures: int) -> None:
    """After a rejected reload: the prober answers, says the reload failed, and still probes and
    exports every old target."""
    wait_for(lambda: metrics(base)[RELOAD_FAILURES] >= failures)
    m = metrics(base)
    assert m[RELOAD_OK] == 0
    assert m[("dvc_prober_targets", (("vantage", "phuong-vinh-hung"),))] == len(names)
    # a series appears only once its target's first probe ends: absent counts as not yet
    wait_for(lambda: all(metrics(base).get(("dvc_probe_success", lbl(n))) == 1 for n in names))
    before = {n: len(portal.hits[f"/{n}"]) for n in names}
    wait_for(lambda: all(len(portal.hits[f"/{n}"]) > before[n] + 1 for n in names))
    assert proc.poll() is None


def test_a_truncated_or_emptied_config_is_rejected_and_the_old_one_keeps_running(
    portal, tmp_path: Path, prober_proc
) -> None:
    cfg = tmp_path / "probes.yaml"
    good = config_text(portal.url, "/ok", "/json")
    cfg.write_text(good)
    proc, base = prober_proc(cfg, [])
    wait_for(lambda: all(("dvc_probe_success", lbl(t)) in metrics(base) for t in ("ok", "json")))
    assert metrics(base)[RELOAD_OK] == 1

    cfg.write_text("")  # an editor truncating the file while saving; the poller sees it
    _keeps_old_config(proc, base, portal, ("ok", "json"), failures=1)

    # cut after the defaults: a well-formed config with no targets at all
    cfg.write_text(good.split("targets:")[0])
    os.kill(proc.pid, signal.SIGHUP)
    _keeps_old_config(proc, base, portal, ("ok", "json"), failures=2)

    cfg.write_text(good)
    success = ("dvc_prober_config_reloads_total", (("result", "success"), ("vantage", "phuong-vinh-hung")))
    wait_for(lambda: metrics(base)[success] >= 1)
    assert metrics(base)[RELOAD_OK] == 1
    log = (tmp_path / "prober0.log").read_text()
    assert "probes.yaml: the file is empty" in log and "no targets: a truncated file?" in log


def test_an_alias_bomb_reload_is_rejected_and_metrics_keep_answering(
    portal, tmp_path: Path, prober_proc
) -> None:
    cfg = tmp_path / "probes.yaml"
    good = config_text(portal.url, "/ok", "/json")
    cfg.write_text(good)
    proc, base = prober_proc(cfg, [])
    wait_for(lambda: all(("dvc_probe_success", lbl(t)) in metrics(base) for t in ("ok", "json")))
    levels = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    cfg.write_text(good.replace("defaults:", "\n".join(levels) + "\ndefaults:"))
    os.kill(proc.pid, signal.SIGHUP)
    _keeps_old_config(proc, base, portal, ("ok", "json"), failures=1)
    log = (tmp_path / "prober0.log").read_text()
    assert "aliases expand to more than" in log


def test_probe_endpoint_is_blackbox_compatible(portal, tmp_path: Path, prober_proc) -> None:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text("vantage: kiosk-1\nprobe_only: true\n")
    _, base = prober_proc(cfg, [])
    status, text = get(f"{base}/probe?target={portal.url}/ok&module=http_2xx")
    assert status == 200
    assert "probe_success 1.0" in text and 'dvc_probe_success{vantage="kiosk-1"} 1.0' in text
    assert 'dvc_probe_phase_duration_seconds{phase="ttfb",vantage="kiosk-1"}' in text
    _, text = get(f"{base}/probe?target={portal.url}/soft&module=portal_page")
    assert "probe_success 0.0" in text and 'dvc_probe_content_match{vantage="kiosk-1"} 0.0' in text
    req = urllib.request.Request(
        f"{base}/probe?target={portal.url}/hang&module=http_2xx",
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "1"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        hung = r.read().decode()
    assert "probe_success 0.0" in hung
    # the header's bound applied, told by the outcome, not a clock: a page that answers after 3 s passes
    # under the module's own 10 s timeout and fails under the scrape's 1 s (less the margin)
    slow = f"{base}/probe?target={portal.url}/slow?s=3&module=http_2xx"
    assert "probe_success 1.0" in get(slow)[1]
    req = urllib.request.Request(slow, headers={"X-Prometheus-Scrape-Timeout-Seconds": "1"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert "probe_success 0.0" in r.read().decode()
    bare = portal.url.removeprefix("http://")
    assert "probe_success 1.0" in get(f"{base}/probe?target={bare}&module=http_2xx")[1]
    assert get(f"{base}/probe?module=http_2xx")[0] == 400
    status, text = get(f"{base}/probe?target={portal.url}/ok&module=icmp")
    assert status == 400 and "unknown module 'icmp'" in text


def test_once_prints_a_table_and_gates(
    portal, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(config_text(portal.url, "/ok", "/json", interval=30, timeout=10))  # one round judged
    assert main(["probe", "--config", str(cfg), "--once"]) == 0
    out = capsys.readouterr().out
    assert "2 ok, 0 failed" in out
    cfg.write_text(config_text(portal.url, "/ok", "/soft", interval=30, timeout=10))
    assert main(["probe", "--config", str(cfg), "--once", "--vantage", "ci"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "error-banner" in out and "from ci" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets:\n  - {name: x, kind: http, url: ftp://x}\n")
    assert main(["probe", "--config", str(bad), "--once"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.yaml:2" in err and "url must start with http://" in err
    assert main(["probe", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text("probe_only: true\n")
    assert main(["probe", "--config", str(good), "--listen", "nowhere"]) == 2
    assert "expected HOST:PORT" in capsys.readouterr().err
    assert main(["probe", "--config", str(good), "--once", "--vantage", "Phường 1"]) == 2
    assert "lowercase slug" in capsys.readouterr().err


def test_flows_go_with_from_catalog_and_must_be_flows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["probe", "--config", str(tmp_path / "p.yaml"), "--flows", str(tmp_path)]) == 2
    assert "--flows goes with --from-catalog" in capsys.readouterr().err
    assert main(["probe", "--from-catalog", "http://127.0.0.1:9", "--flows", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no *.flow.yaml file here" in err
    (tmp_path / "cap-ho-chieu.flow.yaml").write_text("version: 1\nservice: cap-ho-chieu\nsteps: []\n")
    assert main(["probe", "--from-catalog", "http://127.0.0.1:9", "--flows", str(tmp_path)]) == 2
    assert "cap-ho-chieu.flow.yaml:3" in capsys.readouterr().err


def test_from_catalog_generates_the_standard_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--from-catalog", "http://127.0.0.1:9", "--vantage", "phuong-vinh-hung"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    names = [t["name"] for t in data["targets"]]
    assert data["vantage"] == "phuong-vinh-hung"
    assert {"home", "login", "payment-gateway", "api-health", "api-services", "api-flow"} <= set(names)
    assert sum(n.startswith("page-") for n in names) == 25
    assert sum(n.startswith("api-form-") for n in names) == 25
    assert all(t["url"].startswith("http://127.0.0.1:9/") for t in data["targets"] if "url" in t)
    flow = data["targets"][names.index("api-flow")]
    assert flow["credentials"] == {
        "synthetic": {"seed": 42, "index": 199}
    }  # the last citizen: journeys count up from 0
    out = tmp_path / "probes.yaml"
    prod = tmp_path / "prod.yaml"
    prod.write_text(
        "name: hn\nbase_url: https://dichvucong.hanoi.example\nenvironment: production\n"
        "otp: {source: http, url: 'https://otp.example/{cccd}'}\npaths: {api_base: /api/v1}\n"
    )
    assert main(["probe", "--from-catalog", str(prod), "--out", str(out)]) == 0
    text = out.read_text()
    assert "password_env: DVCWATCH_PROBE_PASSWORD" in text and "synthetic" not in text
    # a profile that declares no API gets no API probes and no api_flow: /api/v1 is the sandbox's
    prod.write_text(prod.read_text().replace("paths: {api_base: /api/v1}\n", ""))
    assert main(["probe", "--from-catalog", str(prod), "--out", str(out)]) == 0
    data = yaml.safe_load(out.read_text())
    assert not [t for t in data["targets"] if "/api/" in t["url"] or t.get("kind") == "api_flow"]
    assert "api" not in data["modules"] and "login → form is not probed" in out.read_text()


def test_an_error_selector_only_a_browser_sees_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`role=` needs a browser's accessibility tree: named, and left out of the content checks (which
    would refuse it). A `>>` chain is read by the core's matcher, so it is checked, not named."""
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "version: 2\nname: p\nbase_url: http://127.0.0.1:9\n"
        "selectors: {error_banner: 'role=alert[name=\"Hệ thống đang bận\"]', error_page: 'main >> div.loi'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "probes.yaml"
    assert main(["probe", "--from-catalog", str(profile), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "'role=alert[name=\"Hệ thống đang bận\"]' needs a browser" in err and "div.loi" not in err
    assert "needs a browser" in out.read_text(encoding="utf-8")
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["modules"]["page"]["must_not_match"] == ["main >> div.loi"]
    load_config(out)  # the generated file loads: no selector the prober would refuse


@pytest.mark.parametrize("where", ["directory", "under-a-file", "unwritable"])
def test_an_out_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """A directory, a path under a regular file, or a place nobody may create a file (/proc, even
    for root): one line naming --out, exit 2, and no temporary file left beside it."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    out = {
        "directory": tmp_path,
        "under-a-file": a_file / "probes.yaml",
        "unwritable": Path("/proc/probes.yaml"),
    }[where]
    assert main(["probe", "--from-catalog", "http://127.0.0.1:9", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"--out {out}" in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    assert not list(tmp_path.parent.glob(f"{tmp_path.name}.*.tmp"))


def test_a_big_config_is_reloaded_off_the_loop_and_health_keeps_answering(
    portal, tmp_path: Path, prober_proc
) -> None:
    """A big (allowed) file takes seconds to parse; /-/healthy and /metrics answer while it is parsed:
    seen by /metrics showing the reload still unfinished after it started."""
    cfg = tmp_path / "probes.yaml"
    good = config_text(portal.url, "/ok", interval=60, timeout=5)
    cfg.write_text(good)
    proc, base = prober_proc(cfg, [])
    success = ("dvc_prober_config_reloads_total", (("result", "success"), ("vantage", "phuong-vinh-hung")))
    before = metrics(base).get(success, 0.0)
    comment = "# " + "x" * 76 + "\n"
    cfg.write_text(good + comment * 13_000)  # 1 MB of comment: seconds for PyYAML's scanner
    os.kill(proc.pid, signal.SIGHUP)
    log = tmp_path / "prober0.log"
    wait_for(lambda: "config reload (SIGHUP) started" in log.read_text())
    assert get(base + "/-/healthy")[0] == 200
    assert metrics(base).get(success, 0.0) == before, "answered only once the reload was over"
    wait_for(lambda: metrics(base).get(success, 0.0) == before + 1, timeout=120)
    assert proc.poll() is None


def test_a_fifo_or_an_oversized_file_saved_over_the_config_is_refused_at_once(
    portal, tmp_path: Path, prober_proc
) -> None:
    cfg = tmp_path / "probes.yaml"
    good = config_text(portal.url, "/ok", "/json")
    cfg.write_text(good)
    proc, base = prober_proc(cfg, [])
    cfg.unlink()
    os.mkfifo(cfg)  # the poller sees it, and so does SIGHUP: neither blocks on it
    os.kill(proc.pid, signal.SIGHUP)
    _keeps_old_config(proc, base, portal, ("ok", "json"), failures=1)
    cfg.unlink()
    with cfg.open("w") as f:
        f.write(good)
        f.truncate(8 * 1_048_576)
    _keeps_old_config(proc, base, portal, ("ok", "json"), failures=2)
    log = (tmp_path / "prober0.log").read_text()
    assert f"{cfg}: is a named pipe (FIFO), expected a YAML file" in log
    assert f"{cfg}: 8.0 MB, over the 4.0 MB limit for a YAML file" in log
