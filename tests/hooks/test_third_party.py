"""A third-party plugin, installed for real with pip, found through its entry point.

``tests/example_plugin`` is a separate distribution (``kefu-example-plugin``)
with its own ``setup.cfg``. It is built and installed once per run into a
temporary directory; each test puts that directory on ``sys.path`` so that
``importlib.metadata`` discovers its ``kefu`` entry point when the app is built.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main as kefu_cli
from service.hooks import plugins

SOURCE = Path(__file__).resolve().parent.parent / "example_plugin"
MODULE = "kefu_example_plugin"
DIST = "kefu-example-plugin 0.1.0"
HOOKS = ["customer_tier", "register_blueprints", "register_cli", "ticket_created", "ticket_panels"]


@pytest.fixture(scope="session")
def example_site(tmp_path_factory):
    """Build and install kefu-example-plugin with pip into a fresh directory (once per run)."""
    base = tmp_path_factory.mktemp("example_plugin")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = base / "src"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = base / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / MODULE / "__init__.py").exists()
    return target


@pytest.fixture
def example_on_path(example_site, monkeypatch):
    """The installed plugin is importable and its entry point visible, for this test only."""
    _forget_module()
    monkeypatch.syspath_prepend(str(example_site))
    try:
        yield example_site
    finally:
        _forget_module()


def _forget_module():
    for name in [m for m in sys.modules if m == MODULE or m.startswith(MODULE + ".")]:
        del sys.modules[name]


@pytest.fixture
def settings():
    """Extra settings for the app; a test parametrizes this to disable the plugin."""
    return {}


@pytest.fixture
def app(app_config, settings, example_on_path, build_app):
    with build_app({**app_config, **settings}) as app:
        yield app


def info_of(name):
    """What ``kefu plugins`` shows about ``name`` in the current app (this
    module builds its own ``app``, so not through ``kefu_plugins``)."""
    return next(i for i in plugins().infos if i.name == name)


def plugin_calls(app):
    return app.extensions.get("kefu_example_calls", [])


def test_installed_plugin_is_listed_by_the_api_and_the_cli(app, client, admin, agent):
    listed = {p["name"]: p for p in client.get("/api/v1/plugins", headers=admin).json}
    assert listed["example"] == {"name": "example", "source": DIST, "enabled": True,
                                 "module": MODULE, "hooks": HOOKS}
    assert listed["core"]["source"] == "core"
    assert client.get("/api/v1/plugins", headers=agent).status_code == 403

    result = app.test_cli_runner().invoke(kefu_cli, ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    row = lines.index(f"example\tenabled\t{DIST}\t{MODULE}")
    assert lines[row + 1] == f"    hooks: {', '.join(HOOKS)}"


def test_installed_plugin_hooks_fire(app, client, agent, file_ticket):
    filed = file_ticket()
    number = filed["number"]
    # The notification ran after the commit: it saw the stored number and status.
    assert plugin_calls(app) == [("ticket_created", number, "new", "customer")]

    ticket = client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent).json
    assert ticket["customer_tier"] == "gold"
    assert ticket["panels"] == [{"key": "example", "plugin": "example", "title": "Example plugin", "rows": [],
                                 "data": {"number": number, "viewer_role": "agent"}, "failed": False}]
    customer = client.get(f"/api/v1/customers/{ticket['customer']['id']}", headers=agent).json
    assert customer["tier"] == "gold"
    history = client.get(f"/api/v1/tickets/{number}/history", headers=agent).json
    decided = next(e for e in history if e["action"] == "tier_decided")
    assert decided["actor"] == {"type": "plugin", "id": None, "name": "example"}
    assert decided["details"] == {"tier": "gold"}

    pong = client.get("/example/ping")
    assert pong.status_code == 200 and pong.json == {"pong": True, "plugin": "example"}

    result = app.test_cli_runner().invoke(kefu_cli, ["example-ping"])
    assert result.exit_code == 0, result.output
    assert result.output == "pong from kefu-example-plugin\n"


def _assert_disabled(app, client, agent, admin, file_ticket):
    info = info_of("example")
    assert (info.enabled, info.source, info.hooks) == (False, DIST, [])
    listed = {p["name"]: p for p in client.get("/api/v1/plugins", headers=admin).json}
    assert listed["example"]["enabled"] is False and listed["example"]["hooks"] == []
    result = app.test_cli_runner().invoke(kefu_cli, ["plugins"])
    assert f"example\tdisabled\t{DIST}\t{MODULE}" in result.output.splitlines()

    number = file_ticket()["number"]
    ticket = client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent).json
    assert ticket["customer_tier"] is None and ticket["panels"] == []
    assert plugin_calls(app) == []
    assert client.get("/example/ping").status_code == 404
    assert app.test_cli_runner().invoke(kefu_cli, ["example-ping"]).exit_code != 0
    # Installed is not enabled: the module was not even imported.
    assert MODULE not in sys.modules


@pytest.mark.parametrize("settings", [{"DISABLED_PLUGINS": ["example"]}])
def test_plugin_disabled_by_setting_is_listed_but_not_called(app, client, agent, admin, file_ticket):
    _assert_disabled(app, client, agent, admin, file_ticket)


def test_plugin_disabled_by_environment_variable(example_on_path, app_config, monkeypatch, build_app):
    from service.usecases.staff import create_staff

    monkeypatch.setenv("KEFU_DISABLED_PLUGINS", '["example"]')
    with build_app(app_config) as app:
        client = app.test_client()
        _, agent_token = create_staff("agent@kefu.test", "Agent", "agent", None)
        _, admin_token = create_staff("admin@kefu.test", "Admin", "admin", None)

        def file_ticket():
            response = client.post("/api/v1/public/tickets", json={
                "name": "Li Lei", "email": "li@example.test", "subject": "Broken", "description": "It broke."})
            assert response.status_code == 201, response.json
            return response.json

        _assert_disabled(app, client, {"Authorization": f"Bearer {agent_token}"},
                         {"Authorization": f"Bearer {admin_token}"}, file_ticket)


def test_tracing_logs_the_plugin_calls(example_on_path, app_config, monkeypatch, caplog, build_app):
    monkeypatch.setenv("KEFU_TRACE_HOOKS", "true")
    logger = logging.getLogger("kefu.plugins")
    level = logger.level
    try:
        with caplog.at_level(logging.DEBUG, logger="kefu.plugins"), build_app(app_config) as app:
            assert app.config["TRACE_HOOKS"] is True
            response = app.test_client().post("/api/v1/public/tickets", json={
                "name": "Li Lei", "email": "li@example.test", "subject": "Broken", "description": "It broke."})
            assert response.status_code == 201
    finally:
        logger.setLevel(level)
    messages = [r.getMessage() for r in caplog.records if r.name == "kefu.plugins"]
    assert "notify ticket_created -> example" in messages
    assert "decide customer_tier <- example: 'gold'" in messages
    # Every kind is traced, collectors too.
    assert any(m.startswith("collect register_blueprints <- example: [<Blueprint 'kefu_example'")
               for m in messages), messages


def test_without_tracing_nothing_is_logged(example_on_path, app_config, caplog, build_app):
    with caplog.at_level(logging.DEBUG, logger="kefu.plugins"), build_app(app_config) as app:
        assert app.test_client().post("/api/v1/public/tickets", json={
            "name": "Li Lei", "email": "li@example.test", "subject": "Broken",
            "description": "It broke."}).status_code == 201
    assert [r for r in caplog.records if r.name == "kefu.plugins"] == []
