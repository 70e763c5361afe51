"""A prober that others can reach speaks TLS and asks for a password, the way Prometheus exporters do:
`--web.config.file` in the exporter-toolkit format, checked over real HTTPS against a real process."""

from __future__ import annotations

import base64
import http.client
import shutil
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from prober_process import start_prober

from dvcwatch.commands.cli import main
from dvcwatch.core.processes import free_port
from probes.webconfig import is_loopback

PASSWORD = "mat-khau-phuong-7"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def fetch(
    url: str, ctx: ssl.SSLContext | None, headers: dict[str, str] | None = None
) -> tuple[int, str, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


@pytest.fixture
def web_dir(tmp_path: Path, self_signed: tuple[Path, Path]) -> Path:
    """A web config with relative certificate paths, read beside it as exporter-toolkit reads them;
    one user hashed as Go's bcrypt writes it ($2y$), one as Python's ($2b$)."""
    d = tmp_path / "web"
    d.mkdir()
    shutil.copy(self_signed[0], d / "prober.crt")
    shutil.copy(self_signed[1], d / "prober.key")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    go_style = "$2y$" + hashed.removeprefix("$2b$")
    (d / "web.yml").write_text(
        "tls_server_config:\n"
        "  cert_file: prober.crt\n"
        "  key_file: prober.key\n"
        "http_server_config:\n"
        "  headers: {Strict-Transport-Security: max-age=31536000}\n"
        "basic_auth_users:\n"
        f"  prometheus: '{go_style}'\n"
        f"  ward-admin: '{hashed}'\n",
        encoding="utf-8",
    )
    return d


@pytest.fixture
def tls_prober(
    tmp_path: Path, web_dir: Path, self_signed: tuple[Path, Path]
) -> Iterator[tuple[int, ssl.SSLContext]]:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text("vantage: kiosk-1\nprobe_only: true\n", encoding="utf-8")
    port = free_port()
    log = tmp_path / "prober.log"
    proc = start_prober(cfg, port, log, "--web.config.file", str(web_dir / "web.yml"))
    ctx = ssl.create_default_context(cafile=str(self_signed[0]))
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if fetch(f"https://127.0.0.1:{port}/-/healthy", ctx, basic("prometheus", PASSWORD))[0] == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, "the prober did not start: " + log.read_text()
            time.sleep(0.1)
        yield port, ctx
    finally:
        proc.terminate()
        proc.wait(10)


def test_https_and_basic_auth_guard_metrics_and_probe(tls_prober, portal) -> None:  # type: ignore[no-untyped-def]
    port, ctx = tls_prober
    base = f"https://127.0.0.1:{port}"
    probe = f"{base}/probe?module=http_2xx&target={portal.url}/ok-guarded"

    for url in (f"{base}/metrics", probe, f"{base}/"):
        status, _, headers = fetch(url, ctx)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
        assert fetch(url, ctx, basic("prometheus", PASSWORD + "x"))[0] == 401
        assert fetch(url, ctx, basic("nobody", PASSWORD))[0] == 401
        assert fetch(url, ctx, {"Authorization": "Bearer " + PASSWORD})[0] == 401
        assert fetch(url, ctx, basic("prometheus", PASSWORD * 20))[0] == 401  # past bcrypt's 72 bytes
        assert fetch(url, ctx, {"Authorization": "Basic not-base64!"})[0] == 401
    assert portal.hits["/ok-guarded"] == []  # an unauthenticated /probe sent nothing

    for user in ("prometheus", "ward-admin"):
        status, text, headers = fetch(f"{base}/metrics", ctx, basic(user, PASSWORD))
        assert status == 200 and 'dvc_prober_targets{vantage="kiosk-1"} 0.0' in text
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    status, text, _ = fetch(probe, ctx, basic("prometheus", PASSWORD))
    assert status == 200 and "probe_success 1.0" in text
    assert len(portal.hits["/ok-guarded"]) == 1

    # plain HTTP on the TLS port gets no answer, with or without the password
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, OSError)):
        fetch(f"http://127.0.0.1:{port}/metrics", None, basic("prometheus", PASSWORD))
    # and the certificate is the one configured: a client that does not trust it refuses
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"{base}/metrics", ssl.create_default_context(), basic("prometheus", PASSWORD))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "sets neither tls_server_config nor basic_auth_users"),
        ("basic_auth_users: {prometheus: mat-khau}\n", "the value is a bcrypt hash"),
        (
            "tls_server_config: {cert_file: nowhere.crt, key_file: nowhere.key}\n",
            "cannot load the certificate",
        ),
        ("tls_server_config: {cert_file: a, key_file: b, cipher_suites: [x]}\n", "unknown field"),
        (
            "tls_server_config: {cert_file: a, key_file: b, client_auth_type: RequireAndVerifyClientCert}\n",
            "needs client_ca_file",
        ),
    ],
)
def test_a_bad_web_config_is_one_line_and_exit_2(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text("probe_only: true\n", encoding="utf-8")
    web = tmp_path / "web.yml"
    web.write_text(text, encoding="utf-8")
    port = free_port()
    args = ["probe", "--config", str(cfg), "--listen", f"127.0.0.1:{port}", "--duration", "3"]
    assert main([*args, "--web.config.file", str(web)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(web) in err and expected in err, err
    assert "mat-khau" not in err


def test_a_reachable_address_needs_a_web_config_or_an_explicit_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "probes.yaml"
    cfg.write_text("probe_only: true\n", encoding="utf-8")
    # a name under .invalid is never this machine's: refused before anything tries to listen
    assert main(["probe", "--config", str(cfg), "--listen", "prober.invalid:9477"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--web.config.file" in err and "--allow-insecure-listen" in err
    assert [is_loopback(h) for h in ("127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost")] == [True] * 5
    assert not any(
        is_loopback(h) for h in ("0.0.0.0", "::", "", "10.0.0.7", "prober.invalid", "localhost.invalid")
    )
