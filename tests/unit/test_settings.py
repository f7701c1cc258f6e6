"""Settings load in the documented order: defaults, KEFU_SETTINGS file, KEFU_* env, test overrides."""
from flask import Flask

from service.settings import load_settings


def _app(tmp_path):
    return Flask("t", instance_path=str(tmp_path / "instance"))


def test_defaults_then_file_then_env_then_test_config(tmp_path):
    settings = tmp_path / "site.py"
    settings.write_text("REOPEN_WINDOW_DAYS = 20\nAUTO_CLOSE_DAYS = 9\nTICKET_PREFIX = 'FILE'\n")
    env = {"KEFU_SETTINGS": str(settings), "KEFU_AUTO_CLOSE_DAYS": "11", "KEFU_TICKET_PREFIX": "ENV",
           "KEFU_DISABLED_PLUGINS": '["a", "b"]'}
    app = _app(tmp_path)
    load_settings(app, {"TICKET_PREFIX": "TEST"}, environ=env)
    assert app.config["PAGE_SIZE"] == 25                # default only
    assert app.config["REOPEN_WINDOW_DAYS"] == 20       # file beats default
    assert app.config["AUTO_CLOSE_DAYS"] == 11          # env beats file, parsed as JSON
    assert app.config["DISABLED_PLUGINS"] == ["a", "b"]
    assert app.config["TICKET_PREFIX"] == "TEST"        # test config beats env


def test_env_strings_that_are_not_json_stay_strings(tmp_path):
    app = _app(tmp_path)
    load_settings(app, None, environ={"KEFU_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/k"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/k"


def test_instance_placeholder_and_generated_secret_key_survive_restarts(tmp_path):
    first, second = _app(tmp_path), _app(tmp_path)
    load_settings(first, None, environ={})
    load_settings(second, None, environ={})
    assert first.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance'}/kefu.db"
    assert len(first.config["SECRET_KEY"]) > 40
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_is_read_when_the_app_is_built_not_at_import(monkeypatch, tmp_path):
    import service.app  # noqa: F401  (already imported: settings must not be frozen in it)
    from service import create_app

    monkeypatch.setenv("KEFU_TICKET_PREFIX", "LATE")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["TICKET_PREFIX"] == "LATE"
    monkeypatch.setenv("KEFU_TICKET_PREFIX", "LATER")
    assert create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                       "INSTANCE_PATH": str(tmp_path)}).config["TICKET_PREFIX"] == "LATER"
