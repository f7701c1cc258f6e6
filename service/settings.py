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
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


class UnsafeSettings(ValueError):
    """Settings kefu refuses to start with; the message names the setting
    and says how to put it right."""


def _env_value(raw: str):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# What may count as a ticket's first response (setting FIRST_RESPONSE).
FIRST_RESPONSE_RULES = ("confirm", "reply", "either")


def load_settings(app, test_config: dict | None = None, environ=None) -> None:
    """Fill ``app.config`` in the documented order and resolve derived values.

    ``{instance}`` inside string settings is replaced by the app's instance
    folder. ``DATABASE_URL`` also sets ``SQLALCHEMY_DATABASE_URI``; the
    engine options an operator gives are laid over kefu's (pre-ping on
    PostgreSQL). ``RATELIMIT_STORAGE_URI``, unless set, is ``REDIS_URL``
    (else memory). When no ``SECRET_KEY`` is configured, a random one is
    created once and kept in ``instance/secret_key`` so that tokens survive
    restarts - but with ``REDIS_URL`` (the sign of several nodes, which must
    share one key) ``UnsafeSettings`` is raised instead.
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
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**_engine_options(app.config["DATABASE_URL"]),
                                               **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}
    _rate_limit_storage(app.config)
    if app.config.get("FIRST_RESPONSE") not in FIRST_RESPONSE_RULES:
        raise ValueError(f"FIRST_RESPONSE must be one of {', '.join(FIRST_RESPONSE_RULES)}, "
                         f"not {app.config.get('FIRST_RESPONSE')!r}")
    if not app.config.get("SECRET_KEY"):
        if app.config.get("REDIS_URL"):
            raise UnsafeSettings(
                "SECRET_KEY is not set, and REDIS_URL says several processes or machines serve this "
                "kefu: a key made by each machine would make tracking links and console sessions of one "
                "node worthless on the others. Give every node the same key in KEFU_SECRET_KEY (or "
                f"SECRET_KEY in the KEFU_SETTINGS file); make one with: {MAKE_A_KEY}")
        app.config["SECRET_KEY"] = _instance_secret(instance)


def _rate_limit_storage(config) -> None:
    # Several nodes share REDIS_URL; their rate limits must be counted there
    # too, or each node would grant a client the whole limit again.
    uri = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith(("redis://", "rediss://")):
        # A Redis that stops answering (rather than refusing) must cost a
        # request a moment, not the system's TCP timeout, before the limiter
        # falls back to memory.
        timeout = config["REDIS_TIMEOUT_SECONDS"]
        config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": timeout,
                                               "socket_timeout": max(timeout, 1),
                                               **(config.get("RATELIMIT_STORAGE_OPTIONS") or {})}


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
