"""``/healthz`` (the process is up) and ``/readyz`` (the database and Redis
answer, the schema is at every migration head) for load balancers and
supervisors (issue 15, item 6)."""
from __future__ import annotations

import pytest
from testdb import BASE_CONFIG

from service import migrations

READY = {"status": "ok", "checks": {"database": "ok", "redis": "ok", "migrations": "current"}}


@pytest.fixture
def overrides(redis_server):
    return {"REDIS_URL": redis_server.url, "DB_UNAVAILABLE_RETRY_AFTER": 7}


def assert_not_ready(answer, **checks):
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.headers["Retry-After"] == "7"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {"status": "unavailable", "checks": {**READY["checks"], **checks}}


def test_healthz_says_the_process_is_up(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_when_the_database_and_redis_answer(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == READY
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("overrides", [{}])
def test_readyz_checks_no_redis_when_none_is_configured(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json()["checks"]["redis"] == "not_configured"


def test_readyz_is_unavailable_while_redis_is_down(client, redis_server):
    redis_server.stop()
    assert_not_ready(client.get("/readyz"), redis="unreachable")
    assert client.get("/healthz").status_code == 200
    redis_server.start()
    assert client.get("/readyz").get_json() == READY


@pytest.mark.parametrize("behind", ["core@-1", "webhooks@base"])
def test_readyz_is_unavailable_while_a_migration_is_pending(build_app, tmp_path, redis_server, behind):
    """A node started before ``kefu db upgrade`` ran (here: a database one
    core revision behind, or without a plugin's branch) takes no traffic."""
    from flask_migrate import downgrade

    config = {**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/behind.db",
              "INSTANCE_PATH": str(tmp_path / "instance"), "REDIS_URL": redis_server.url,
              "DB_UNAVAILABLE_RETRY_AFTER": 7}
    with build_app(config) as app:
        migrations.upgrade()
        downgrade(revision=behind)
        assert migrations.pending()
        assert_not_ready(app.test_client().get("/readyz"), migrations="behind")
        migrations.upgrade()
        assert app.test_client().get("/readyz").get_json() == READY


def test_readyz_stays_ready_when_a_newer_release_migrated_the_database(build_app, tmp_path, redis_server):
    """A rolling upgrade migrates first: the old nodes still serve until replaced."""
    import sqlalchemy as sa

    config = {**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/ahead.db",
              "INSTANCE_PATH": str(tmp_path / "instance"), "REDIS_URL": redis_server.url}
    with build_app(config) as app:
        migrations.upgrade()
        from service.extensions import db
        with db.engine.begin() as conn:  # a revision of a release this code does not know
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0999' "
                                 "WHERE version_num = (SELECT max(version_num) FROM alembic_version "
                                 "WHERE version_num LIKE '0%')"))
        answer = app.test_client().get("/readyz")
        assert answer.status_code == 200
        assert answer.get_json()["checks"]["migrations"] == "ahead"


@pytest.mark.parametrize("overrides", [{"PUBLIC_RATE_LIMIT": "1 per hour", "LOGIN_RATE_LIMIT": "1 per hour"}])
def test_probes_need_no_sign_in_no_limit_and_are_not_part_of_the_api(app, client):
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    paths = app.extensions["kefu_api"].spec.to_dict()["paths"]
    assert not {"/healthz", "/readyz"} & set(paths)


@pytest.mark.postgres_only
def test_healthz_touches_nothing_and_readyz_names_what_is_down(build_app, app_config, pg, redis_server):
    """With the database and Redis both stopped the process is still up
    (``/healthz``: a supervisor must not restart it for that) but not ready."""
    with build_app({**app_config, "DATABASE_URL": pg.url}) as app:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        pg.stop()
        redis_server.stop()
        assert client.get("/healthz").get_json() == {"status": "ok"}
        assert_not_ready(client.get("/readyz"), database="unreachable", redis="unreachable",
                         migrations="unknown")
        pg.start()
        assert_not_ready(client.get("/readyz"), redis="unreachable")
