"""Settings loading, in one documented order.

1. ``service/default_settings.py`` (shipped inside the package),
2. the Python file named by the ``KEFU_SETTINGS`` environment variable,
3. environment variables ``KEFU_<KEY>`` (values parsed as JSON when they parse,
   so ``KEFU_REOPEN_WINDOW_DAYS=30`` is an int; otherwise taken as strings),
4. the ``test_config`` mapping given to ``create_app``.

Nothing here runs at import time: ``load_settings`` is called by the factory.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

DEFAULTS_FILE = Path(__file__).resolve().parent / "default_settings.py"
ENV_PREFIX = "KEFU_"


def _env_value(raw: str):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_settings(app, test_config: dict | None = None, environ=None) -> None:
    """Fill ``app.config`` in the documented order and resolve derived values.

    ``{instance}`` inside string settings is replaced by the app's instance
    folder. ``DATABASE_URL`` also sets ``SQLALCHEMY_DATABASE_URI``. When no
    ``SECRET_KEY`` is configured, a random one is created once and kept in
    ``instance/secret_key`` so that tokens survive restarts.
    """
    environ = os.environ if environ is None else environ
    app.config.from_pyfile(str(DEFAULTS_FILE))
    if environ.get("KEFU_SETTINGS"):
        app.config.from_pyfile(os.path.abspath(environ["KEFU_SETTINGS"]))
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX) and key != "KEFU_SETTINGS" and key[len(ENV_PREFIX):].isupper():
            app.config[key[len(ENV_PREFIX):]] = _env_value(raw)
    if test_config:
        app.config.update(test_config)

    instance = app.instance_path
    for key, value in list(app.config.items()):
        if isinstance(value, str) and "{instance}" in value:
            app.config[key] = value.replace("{instance}", instance)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        os.makedirs(instance, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config["DATABASE_URL"]))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _instance_secret(instance: str) -> str:
    os.makedirs(instance, exist_ok=True)
    path = Path(instance) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
