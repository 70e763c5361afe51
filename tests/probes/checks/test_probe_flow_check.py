"""The `flow` kind: a recorded flow replayed login → form, never further, its secrets only to its origins."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.flows import load_flow
from probes.checks.flow import up_to_form
from probes.config import TargetRefused, load_config, load_config_text, module_target
from probes.runner import new_session, run_probe, values

FLOWS = Path(__file__).parents[1] / "data" / "flows"
THIRD = FLOWS / "third_portal" / "dang-ky-khai-sinh.flow.yaml"
PASSWORD = "Mat-khau-bi-mat-42"


def test_a_probe_replays_up_to_the_form_and_only_opens_it() -> None:
    flow = load_flow(THIRD)
    probe = up_to_form(flow)
    assert [s.step for s in probe.steps] == ["find_service", "login", "otp", "form"]
    assert [r.method for r in probe.steps[-1].requests] == ["GET"]  # the form's save is not sent
    saved = up_to_form(flow, save_form=True)
    assert [r.method for r in saved.steps[-1].requests] == ["GET", "POST"]
    assert [s.step for s in saved.steps] == ["find_service", "login", "otp", "form"]  # never upload/submit
    no_form = flow.model_copy(update={"steps": [s for s in flow.steps if s.step != "form"]})
    with pytest.raises(ConfigError, match="opens no form before its upload step"):
        up_to_form(no_form)
    post_first = flow.model_copy(
        update={
            "steps": [
                s if s.step != "form" else s.model_copy(update={"requests": s.requests[1:]})
                for s in flow.steps
            ]
        }
    )
    with pytest.raises(ConfigError, match="save_form"):
        up_to_form(post_first)


FLOW_YAML = """version: 1
service: cap-ho-chieu
steps:
  - step: login
    requests:
      - {label: GET /start, method: GET, url: '${base}/start', expect_status: [302],
         extract: [{name: idp, source: header, expr: Location}]}
      - {label: POST idp /login, method: POST, url: '${idp}', expect_status: [200],
         form: {user: '${account.username}', password: '${secret.password}'}}
  - step: form
    requests:
      - {label: GET /form, method: GET, url: '${base}/form', expect_status: [200]}
"""


def flow_config(tmp_path: Path, base: str, **extra: str) -> Path:
    (tmp_path / "flows").mkdir(exist_ok=True)
    (tmp_path / "flows" / "cap-ho-chieu.flow.yaml").write_text(FLOW_YAML, encoding="utf-8")
    lines = [
        "  - name: flow",
        "    kind: flow",
        "    service: cap-ho-chieu",
        f"    url: '{base}'",
        "    flow: flows/cap-ho-chieu.flow.yaml",
        "    credentials: {cccd: '001099012345', password_env: FLOW_TEST_PW}",
        "    interval: 10",
        "    timeout: 5",
        *(f"    {k}: {v}" for k, v in extra.items()),
    ]
    path = tmp_path / "probes.yaml"
    path.write_text("targets:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


async def two_origins(serve_app) -> tuple[str, str, Counter[str], list[str]]:  # type: ignore[no-untyped-def]
    """A portal whose login lives on a second origin (another port), as an identity provider does."""
    hits: Counter[str] = Counter()
    bodies: list[str] = []
    idp_app = web.Application()

    async def login(request: web.Request) -> web.Response:
        hits["idp"] += 1
        bodies.append(await request.text())
        return web.Response(text="<main>ok</main>", content_type="text/html")

    idp_app.router.add_post("/login", login)
    idp = await serve_app(idp_app)
    portal = web.Application()

    async def start(request: web.Request) -> web.Response:
        hits["start"] += 1
        raise web.HTTPFound(f"{idp}/login")

    async def form(request: web.Request) -> web.Response:
        hits["form"] += 1
        return web.Response(text="<main>Tờ khai</main>", content_type="text/html")

    portal.router.add_get("/start", start)
    portal.router.add_get("/form", form)
    base = await serve_app(portal)
    return base, idp, hits, bodies


async def probe(config: Path):  # type: ignore[no-untyped-def]
    target = load_config(config).targets[0]
    async with new_session() as session:
        return await run_probe(target, session)


async def test_the_account_goes_only_to_the_origins_the_target_names(
    serve_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FLOW_TEST_PW", PASSWORD)
    base, idp, hits, bodies = await two_origins(serve_app)
    caplog.set_level(logging.DEBUG)
    r = await probe(flow_config(tmp_path, base))
    assert not r.success
    assert r.observation.failed_step == "login"
    assert "is not the portal's origin nor allowed; nothing was sent" in r.observation.failure
    assert hits["idp"] == 0 and not bodies
    assert PASSWORD not in r.observation.failure and PASSWORD not in caplog.text

    r = await probe(flow_config(tmp_path, base, origins=f"{{identity: '{idp}'}}"))
    assert r.success, r.observation.failure
    assert hits["idp"] == 1 and hits["form"] == 1
    assert "password=Mat-khau-bi-mat-42" in bodies[0]  # the reference was filled, at the allowed origin
    assert set(r.observation.steps) == {"login", "form"}
    assert values(r).failed_step == {"login": 0.0, "otp": 0.0, "find_service": 0.0, "form": 0.0}
    assert values(r).content_match == 1.0

    # /probe?module=: a module carrying the account is refused for any other host, nothing sent
    module = tmp_path / "module.yaml"
    module.write_text(
        "probe_only: true\nmodules:\n  citizen: {kind: flow, flow: flows/cap-ho-chieu.flow.yaml,"
        " credentials: {cccd: '001099012345', password_env: FLOW_TEST_PW}}\n",
        encoding="utf-8",
    )
    with pytest.raises(TargetRefused, match="carries an account"):
        module_target(load_config(module), "citizen", "http://127.0.0.1:9")
    # ... and used on the host it names (its flow file read beside the config, as a target's)
    module.write_text(
        module.read_text(encoding="utf-8").replace("probe_only: true\n", "")
        + f"targets:\n  - {{name: flow, module: citizen, url: '{base}'}}\n",
        encoding="utf-8",
    )
    from_probe = module_target(load_config(module), "citizen", base)
    assert from_probe.flow == str(tmp_path / "flows" / "cap-ho-chieu.flow.yaml")


async def test_the_profiles_busy_banner_fails_the_step_that_shows_it(
    serve_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOW_TEST_PW", PASSWORD)
    _, idp, _, _ = await two_origins(serve_app)
    app = web.Application()

    async def start(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{idp}/login")

    async def form(request: web.Request) -> web.Response:
        banner = '<main><div class="qua-tai">Hệ thống đang quá tải</div></main>'
        return web.Response(text=banner, content_type="text/html")

    app.router.add_get("/start", start)
    app.router.add_get("/form", form)
    busy = await serve_app(app)
    r = await probe(
        flow_config(tmp_path, busy, origins=f"{{identity: '{idp}'}}", busy_selectors="['div.qua-tai']")
    )
    assert r.observation.failure == "form: busy banner: div.qua-tai"
    assert r.observation.failed_step == "form" and values(r).content_match == 0.0
    assert r.observation.status_code == 200


def test_flow_files_are_read_beside_the_config_and_checked_on_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOW_TEST_PW", PASSWORD)
    config = flow_config(tmp_path, "http://127.0.0.1:1")
    monkeypatch.chdir("/")
    target = load_config(config).targets[0]
    assert target.flow == str(tmp_path / "flows" / "cap-ho-chieu.flow.yaml")
    (tmp_path / "flows" / "cap-ho-chieu.flow.yaml").write_text(
        FLOW_YAML.replace("step: form", "step: submit"), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    assert "targets[0](flow).flow" in str(exc.value) and "opens no form" in str(exc.value)
    with pytest.raises(ConfigError, match="prompt"):
        load_config_text(
            "targets:\n  - {name: f, kind: flow, url: 'http://127.0.0.1:1', flow: x.flow.yaml,"
            " otp: {source: prompt}}\n",
            secrets=False,
        )


async def test_probes_of_one_account_log_in_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third portal texts each code to the account's one phone and the forwarder shows the newest:
    overlapping logins would read each other's codes. Three flow probes of that account at once all pass."""
    from fixtures.third_portal import ThirdPortal
    from fixtures.third_portal.target import PASSWORD_ENV

    from probes.one_round import probe_all

    with ThirdPortal() as portal:
        monkeypatch.setenv(PASSWORD_ENV, portal.account.password)
        targets = "".join(
            f"  - {{name: flow-{i}, kind: flow, service: dang-ky-khai-sinh, url: '{portal.url}', flow: '{THIRD}',"
            f" credentials: {{cccd: '{portal.account.cccd}', password_env: {PASSWORD_ENV}}},"
            f" otp: {{source: http, url: '{portal.url}/__sms/tin-moi-nhat', json_field: noi_dung, timeout: 5}},"
            " interval: 60, timeout: 45}\n"
            for i in range(3)
        )
        config = load_config_text(f"concurrency: 8\ntargets:\n{targets}")
        results = await probe_all(config)
    assert [r.observation.failure for r in results] == ["", "", ""]


async def test_a_flow_file_broken_while_the_prober_runs_fails_its_probe(
    serve_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FLOW_TEST_PW", PASSWORD)
    base, idp, _, _ = await two_origins(serve_app)
    target = load_config(flow_config(tmp_path, base, origins=f"{{identity: '{idp}'}}")).targets[0]
    async with new_session() as session:
        assert (await run_probe(target, session)).success
        Path(target.flow).write_text(FLOW_YAML.replace("${idp}", "${nowhere}"), encoding="utf-8")
        r = await run_probe(target, session)
    assert r.observation.failure == "flow: the flow file cannot be used (see the prober's log)"
    assert "nowhere" in caplog.text and PASSWORD not in caplog.text


def test_a_failing_page_is_blamed_on_the_later_step_it_serves() -> None:
    """As journeys do: a login through the service's button starts on find_service's own page."""
    text = (
        "targets:\n  - {name: f, kind: flow, url: 'http://127.0.0.1:1', flow: x.flow.yaml,\n"
        "     step_pages: {find_service: ['^/dich-vu-cong/[^/]+$'], login: ['^/tai-khoan/dang-nhap$']}}\n"
    )
    target = load_config_text(text, secrets=False).targets[0]
    page = "http://127.0.0.1:1/dich-vu-cong/TTHC-333"
    assert target.owner("login", page) == "find_service"
    assert target.owner("form", page) == "form"  # an earlier step's page: the recorded step keeps it
    assert target.owner("login", "http://127.0.0.1:1/tai-khoan/dang-nhap?returnUrl=%2F") == "login"
    assert target.owner("otp", "http://127.0.0.1:1/tai-khoan") == "otp"
    with pytest.raises(ConfigError, match="not a step of the vocabulary"):
        load_config_text(text.replace("find_service:", "find:"), secrets=False)


def test_an_error_selector_the_matcher_cannot_read_is_refused_on_load() -> None:
    """As `http`'s `must_not_match`: refused when the file is read, never a failed probe of the portal."""
    text = (
        "targets:\n  - {name: f, kind: flow, url: 'http://127.0.0.1:1', flow: x.flow.yaml,\n"
        "     error_selectors: ['div.loi'], busy_selectors: ['BUSY']}\n"
    )
    assert load_config_text(text.replace("BUSY", "main >> text=Bận"), secrets=False).targets[0].busy_selectors
    with pytest.raises(ConfigError, match="busy_selectors"):
        load_config_text(text.replace("BUSY", "role=alert"), secrets=False)
