"""Settings for running on several machines (issue 15, rows 4 and 7):
``RATELIMIT_STORAGE_URI`` follows ``REDIS_URL`` unless set, one
``SECRET_KEY`` for every node, the database pool's settings."""
from __future__ import annotations

import pytest
from deployparts import BODY, counted_in_redis
from flask import Flask
from testdb import BASE_CONFIG

from service import create_app, settings
from service.settings import load_settings

REDIS = "redis://127.0.0.1:6399/0"


def _settings(tmp_path, test_config=None, environ=None) -> dict:
    app = Flask("t", instance_path=str(tmp_path / "instance"))
    load_settings(app, {"SECRET_KEY": "k" * 40, **(test_config or {})}, environ=environ or {})
    return app.config


@pytest.mark.parametrize("given, expected", [
    ({}, "memory://"),
    ({"REDIS_URL": REDIS}, REDIS),
    ({"REDIS_URL": REDIS, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6399/1"}, "redis://127.0.0.1:6399/1"),
    ({"REDIS_URL": REDIS, "RATELIMIT_STORAGE_URI": "memory://"}, "memory://"),
])
def test_rate_limits_are_shared_through_redis_url_unless_set(tmp_path, given, expected):
    assert _settings(tmp_path, given)["RATELIMIT_STORAGE_URI"] == expected


def test_redis_url_from_the_environment_shares_the_rate_limits_too(tmp_path):
    config = _settings(tmp_path, environ={"KEFU_REDIS_URL": REDIS})
    assert config["RATELIMIT_STORAGE_URI"] == REDIS
    # A Redis that stops answering costs a request at most these, not the
    # operating system's connect timeout.
    options = config["RATELIMIT_STORAGE_OPTIONS"]
    assert options["socket_connect_timeout"] == config["REDIS_TIMEOUT_SECONDS"]
    assert options["socket_timeout"] >= config["REDIS_TIMEOUT_SECONDS"]


def test_an_app_with_redis_url_counts_its_limits_in_that_redis(build_app, app_config, redis_server):
    with build_app({**app_config, "REDIS_URL": redis_server.url}) as app:
        assert app.test_client().post("/api/v1/public/tickets", json=BODY).status_code == 201
        assert counted_in_redis(redis_server.url) == 1


def test_several_nodes_refuse_to_start_without_a_shared_secret_key(tmp_path):
    """With REDIS_URL (several nodes) a key generated per machine would make
    one node's tracking links and sessions worthless on the others."""
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/k.db", "INSTANCE_PATH": str(tmp_path / "instance"),
              "REDIS_URL": REDIS}
    with pytest.raises(settings.UnsafeSettings) as refused:
        create_app(config)
    message = str(refused.value)
    assert "KEFU_SECRET_KEY" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in message
    assert not (tmp_path / "instance" / "secret_key").exists()  # no per-node key was made

    app = create_app({**config, "SECRET_KEY": BASE_CONFIG["SECRET_KEY"]})
    assert app.config["SECRET_KEY"] == BASE_CONFIG["SECRET_KEY"]


def test_one_machine_still_gets_a_generated_secret_key(tmp_path):
    config = _settings(tmp_path, {"SECRET_KEY": None})
    assert len(config["SECRET_KEY"]) > 40
    assert (tmp_path / "instance" / "secret_key").exists()


def test_the_pool_checks_connections_before_use_whatever_else_is_set(tmp_path):
    """After PostgreSQL restarts, pooled connections are dead: pre-ping
    replaces them instead of failing the next requests; an operator's own
    engine options (a pool size) keep it."""
    url = "postgresql+psycopg://kefu@127.0.0.1:5432/kefu"
    assert _settings(tmp_path, {"DATABASE_URL": url})["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    mine = _settings(tmp_path, {"DATABASE_URL": url, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20}})
    assert mine["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert mine["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 20
    # ... and may still turn it off on purpose.
    off = _settings(tmp_path, {"DATABASE_URL": url, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}})
    assert off["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


@pytest.mark.parametrize("name", ["PUBLIC_RATE_LIMIT", "LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT"])
def test_a_malformed_rate_limit_stops_the_start_naming_it(tmp_path, name):
    """A limit that cannot be read would otherwise be skipped on every
    request (the limiter swallows its errors so that an outage of its store
    cannot fail a customer's request)."""
    with pytest.raises(settings.UnsafeSettings) as refused:
        create_app({**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/k.db",
                    "INSTANCE_PATH": str(tmp_path / "instance"), name: "thirty a minute"})
    assert name in str(refused.value) and "thirty a minute" in str(refused.value)
