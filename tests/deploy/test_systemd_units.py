"""The province's systemd units (deploy/systemd/, docs/deploy.md) as systemd itself reads them.

Each unit must pass `systemd-analyze verify` with no word of complaint (an unknown key is only a warning
there, and a misspelt `ProtectSytem=` would silently leave a unit unprotected), stay under an exposure
score in `systemd-analyze security`, start ward runners after the history and the browsers, and take
every secret from a file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from unitfiles import (
    DEPLOYED_VENV,
    ROOT,
    UNIT_DIR,
    executables,
    exposure,
    instance_name,
    make_root,
    read_unit,
    unit_files,
    values,
    verify,
)

UNITS = unit_files()
SERVICES = [u for u in UNITS if u.suffix == ".service"]
WARD = UNIT_DIR / "dvcwatch-ward@.service"
MAX_EXPOSURE = 45  # tenths: 4.5, inside systemd's "OK" band; an unhardened service scores 9.6


@pytest.fixture(scope="module", autouse=True)
def _systemd_tools() -> None:
    for tool in ("systemd-analyze", "systemctl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install Debian's `systemd` package (./scripts/bootstrap does)")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path / "root", UNITS)


def test_the_province_has_its_units() -> None:
    names = {u.name for u in UNITS}
    assert {
        "dvcwatch-province.target",
        "dvcwatch-browsers.target",
        "dvcwatch-browser@.service",
        "dvcwatch-ward@.service",
        "dvcwatch-prober@.service",
        "dvcwatch-dashboards.service",
    } <= names


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_accepts_the_unit(root: Path, unit: Path) -> None:
    done = verify(root, [instance_name(unit)])
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("ProtectSystem=strict", "ProtectSytem=strict"), "Unknown key"),
        (("NoNewPrivileges=yes", "NoNewPrivileges=maybe"), "Failed to parse boolean"),
        (
            ("ExecStart=/opt/dvcwatch/.venv/bin/dvcwatch", "ExecStart=/opt/dvcwatch/bin/dvcwatch"),
            "not executable",
        ),
        (("ExecStart=/opt/", "ExecStart=opt/"), "absolute path"),
        (("[Service]", "[Servce]"), "Unknown section"),
    ],
    ids=["misspelt-key", "bad-boolean", "missing-binary", "relative-exec", "misspelt-section"],
)
def test_verify_rejects_a_broken_unit(root: Path, change: tuple[str, str], complaint: str) -> None:
    """The check above is not vacuous: the same verify, on the ward unit spoilt one way, complains."""
    text = WARD.read_text(encoding="utf-8")
    assert change[0] in text
    (root / "etc/systemd/system" / WARD.name).write_text(
        text.replace(change[0], change[1], 1), encoding="utf-8"
    )
    done = verify(root, [instance_name(WARD)])
    assert complaint in done.stdout + done.stderr
    assert (done.returncode, done.stdout + done.stderr) != (0, "")


def test_every_binary_a_unit_starts_exists_in_a_bootstrapped_checkout() -> None:
    """The stubs under the test root stand for real files: the venv's commands, or the system's own."""
    for unit in UNITS:
        for exe in executables(unit):
            if exe.startswith(DEPLOYED_VENV):
                assert (ROOT / ".venv/bin" / exe.removeprefix(DEPLOYED_VENV)).exists(), (unit.name, exe)
            else:
                assert Path(exe).exists(), (unit.name, exe)


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_service_is_hardened(root: Path, unit: Path) -> None:
    settings = read_unit(unit)
    assert values(settings, "ProtectSystem") == ["strict"]
    assert values(settings, "PrivateTmp") == ["yes"]
    assert values(settings, "NoNewPrivileges") == ["yes"]
    assert values(settings, "DynamicUser") == ["yes"] or values(settings, "User") == ["dvcwatch"]
    done = exposure(root, instance_name(unit), MAX_EXPOSURE)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


def test_the_exposure_check_fails_an_unhardened_service(root: Path) -> None:
    hardening = re.compile(
        r"^(Protect|Private|Restrict|NoNew|Lock|Capability|SystemCall|Dynamic|User|Group|UMask).*\n", re.M
    )
    plain = hardening.sub("", WARD.read_text(encoding="utf-8"))
    (root / "etc/systemd/system" / WARD.name).write_text(plain, encoding="utf-8")
    assert exposure(root, instance_name(WARD), MAX_EXPOSURE).returncode != 0


def test_ward_runners_start_after_the_history_and_the_browser_servers(root: Path) -> None:
    enable = ["dvcwatch-province.target", "dvcwatch-browser@1.service", "dvcwatch-browser@2.service"]
    enable += [f"dvcwatch-ward@phuong-{w}.service" for w in ("a", "b", "c")]
    done = subprocess.run(
        ["systemctl", f"--root={root}", "enable", *enable],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    etc = root / "etc/systemd/system"
    # one `enable` per instance puts each where the targets pull it in
    assert {p.name for p in (etc / "dvcwatch-browsers.target.wants").iterdir()} == {
        "dvcwatch-browser@1.service",
        "dvcwatch-browser@2.service",
    }
    assert {f"dvcwatch-ward@phuong-{w}.service" for w in "abc"} <= {
        p.name for p in (etc / "dvcwatch-province.target.wants").iterdir()
    }
    # a target with default dependencies is reached only after the units it wants have started...
    browsers = read_unit(UNIT_DIR / "dvcwatch-browsers.target")
    assert "no" not in values(browsers, "DefaultDependencies")
    # ...and every ward runner waits for that target and for PostgreSQL
    ward = read_unit(WARD)
    assert {"postgresql.service", "dvcwatch-browsers.target", "network-online.target"} <= set(
        values(ward, "After")
    )
    assert "dvcwatch-browsers.target" in values(ward, "Wants")
    assert "dvcwatch-browsers.target" in values(read_unit(UNIT_DIR / "dvcwatch-province.target"), "Wants")


SECRET_PATTERNS = [
    # a value after password= or token: that is not a path, a variable or a systemd specifier
    re.compile(r"password\s*[=:]\s*[^/\s%$]", re.I),
    re.compile(r"passwd\s*[=:]\s*[^/\s%$]", re.I),
    re.compile(r"token\s*[=:]\s*[^/\s%$]", re.I),
    re.compile(r"\bglsa_[A-Za-z0-9]"),  # a Grafana service-account token
    re.compile(r"[a-z]+://[^/\s:@]+:[^/\s@]+@"),  # user:password@ in a URL
    re.compile(r"\bws://[^\s$]+/\S"),  # a browser server's wsPath, its only shared secret
    re.compile(r"^Environment=\S*(PASSWORD|TOKEN|SECRET)", re.I | re.M),
]


def secrets_in(text: str) -> list[str]:
    return [m.group(0) for p in SECRET_PATTERNS for m in p.finditer(text)]


def test_the_secret_scan_finds_secrets() -> None:
    for bad in [
        "Environment=DVC_TESTER1_PASSWORD=ThuNghiem@2026",
        "ExecStart=/x --history postgresql://dvcwatch:hunter2@db/dvcwatch",
        "ExecStart=/x dashboards push --token glsa_abc",
        "ExecStart=/x --browser ws://10.0.0.5:3000/4f1c9e",
        "Environment=PGPASSWORD=x",
    ]:
        assert secrets_in(bad), bad


def test_no_unit_holds_a_secret() -> None:
    for path in sorted(UNIT_DIR.iterdir()):
        assert secrets_in(path.read_text(encoding="utf-8")) == [], path.name


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_secrets_come_from_private_files(unit: Path) -> None:
    """Credentials from /etc/dvcwatch/credentials/ (0700, tmpfiles), environment from /etc/dvcwatch/."""
    settings = read_unit(unit)
    for cred in values(settings, "LoadCredential"):
        name, _, source = cred.partition(":")
        assert name and source.startswith("/etc/dvcwatch/credentials/"), cred
    for env_file in values(settings, "EnvironmentFile"):  # settings only: secrets are credentials
        assert env_file.lstrip("-").startswith("/etc/dvcwatch/"), env_file
        assert "secret" not in env_file, env_file
    for s in settings:
        if s.key == "Environment" and "PGPASSFILE" in s.value:
            assert s.value == "PGPASSFILE=%d/pgpass"
