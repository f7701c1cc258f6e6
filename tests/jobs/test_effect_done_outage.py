"""An effect that happened is recorded done even when the database
connection is cut right after it (a restart, a failover): the mark is tried
again on a new connection instead of failing the job, whose retry would do
the effect a second time (the cluster's fault run saw a mail twice)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.extensions import db
from service.jobs.effects import effect_once
from service.models import JobEffect

pytestmark = pytest.mark.postgres_only  # a server that can cut a connection


def _cut_this_sessions_connection():
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()


def test_the_done_mark_survives_a_cut_connection(app):
    done = []
    with effect_once("test:cut") as go:
        assert go
        done.append("mailed")
        _cut_this_sessions_connection()  # the effect happened; now the database goes away
    assert done == ["mailed"]
    db.session.expire_all()
    effect = db.session.get(JobEffect, "test:cut")
    assert effect.done_at is not None and effect.detail == "done by local"
    with effect_once("test:cut") as go:  # the job's retry (or a duplicate delivery) does nothing
        assert not go


def test_an_outage_beyond_the_patience_fails_the_job(app):
    app.config["EFFECT_DONE_PATIENCE"] = 0
    with pytest.raises(sa.exc.OperationalError):
        with effect_once("test:cut-for-good") as go:
            assert go
            _cut_this_sessions_connection()
    db.session.rollback()
    effect = db.session.get(JobEffect, "test:cut-for-good")
    assert effect is not None and effect.done_at is None  # claimed, not done: its retry takes it over
