"""The outbox, job declarations, effects and periodic jobs, on the in-process runner."""
from __future__ import annotations

import glob
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from service import create_app, hookimpl
from service.hooks.manager import PluginStartupError
from service.jobs import registry as job_api  # the ``jobs`` fixture is the runner
from service.extensions import db
from service.models import JobEffect, OutboxJob, Ticket
from service.models.base import utcnow
from service.usecases.uow import UnitOfWork

CALLS = []


def record_call(**kwargs):
    """The test jobs' function: records its call; fails the first ``fail_times`` calls per tag."""
    CALLS.append(kwargs)
    calls_so_far = sum(1 for c in CALLS if c.get("tag") == kwargs.get("tag"))
    if calls_so_far <= kwargs.get("fail_times", 0):
        raise ConnectionError("transient failure")
    return "ok"


class JobsPlugin:
    @hookimpl
    def register_jobs(self, app):
        return [{"name": "test.record", "func": f"{__name__}:record_call", "queue": "default"},
                {"name": "test.tick", "func": f"{__name__}:record_call", "queue": "default", "interval": 60,
                 "kwargs": {"tag": "tick"}}]


@pytest.fixture
def plugin_jobs(kefu_plugins):
    CALLS.clear()
    kefu_plugins.register(JobsPlugin(), name="jobs_test")  # the job registry is rebuilt with its jobs
    yield CALLS
    CALLS.clear()


def _mails(app):
    return sorted(glob.glob(f"{app.config['MAIL_LOG_DIR']}/*.eml"))


def test_enqueue_refuses_undeclared_jobs_and_objects(app):
    with pytest.raises(job_api.JobError, match="no job named 'nope'"):
        job_api.enqueue("nope")
    with pytest.raises(job_api.JobError, match="must be JSON"):
        job_api.enqueue("mail.staff_alert", staff_id=object(), ticket_id=1, kind="x", text="", key="k")
    assert db.session.scalars(select(OutboxJob)).all() == []


def test_a_malformed_declaration_fails_at_start(app_config):
    class Bad:
        @hookimpl
        def register_jobs(self, app):
            return [{"name": "bad", "func": "no_colon_here"}]

    with pytest.raises(PluginStartupError, match="plugin bad_jobs failed in register_jobs: "
                                                 "JobError: bad_jobs: a job needs a name and func"):
        create_app(app_config, plugins=[("bad_jobs", Bad())])


def test_the_same_dedupe_key_is_one_job(app, plugin_jobs, jobs):
    with UnitOfWork() as uow:
        first = job_api.enqueue("test.record", dedupe_key="once", tag="a")
        assert job_api.enqueue("test.record", dedupe_key="once", tag="b") is first
        uow.commit()
    with UnitOfWork() as uow:
        assert job_api.enqueue("test.record", dedupe_key="once", tag="c").id == first.id
        uow.commit()
    jobs.drain(periodic=False)
    assert [c["tag"] for c in plugin_jobs] == ["a"]


def test_nothing_is_enqueued_when_the_change_rolls_back(app, plugin_jobs, jobs, client, agent, file_ticket):
    number = file_ticket()["number"]
    response = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                           json={"action": "resolve", "version": 1})  # illegal from new
    assert response.status_code == 409
    rows = db.session.scalars(select(OutboxJob)).all()
    assert [(r.name, r.kwargs["notice"]) for r in rows] == [("mail.notice", "received")]
    with pytest.raises(ZeroDivisionError):
        with UnitOfWork():
            job_api.enqueue("test.record", tag="lost")
            1 / 0
    jobs.drain(periodic=False)
    assert plugin_jobs == []
    assert len(_mails(app)) == 1


def test_a_transient_failure_is_retried_with_backoff_and_recorded(app, plugin_jobs, jobs):
    with UnitOfWork() as uow:
        row = job_api.enqueue("test.record", tag="flaky", fail_times=1)
        uow.commit()
    jobs.drain(periodic=False)
    db.session.refresh(row)
    assert row.done_at is None and row.attempts == 1 and "transient failure" in row.last_error
    time.sleep(1.1)  # the test settings retry after one second
    jobs.drain(periodic=False)
    db.session.refresh(row)
    assert row.done_at is not None and row.attempts == 2
    assert len([c for c in plugin_jobs if c["tag"] == "flaky"]) == 2


def test_a_delayed_job_waits_for_its_time(app, plugin_jobs, jobs):
    with UnitOfWork() as uow:
        job_api.enqueue("test.record", tag="later", delay=timedelta(seconds=2))
        uow.commit()
    jobs.drain(periodic=False)
    assert plugin_jobs == []
    time.sleep(2.1)
    jobs.drain(periodic=False)
    assert [c["tag"] for c in plugin_jobs] == ["later"]


def test_a_job_that_runs_twice_has_its_effect_once(app, jobs, client, agent, file_ticket, act):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")
    jobs.drain(periodic=False)
    assert len(_mails(app)) == 2
    # Deliver every finished job again, as a duplicate relay would.
    rows = db.session.scalars(select(OutboxJob)).all()
    for row in rows:
        row.done_at = None  # forget that the job finished; only the effects remember
        row.relayed_at = None
    db.session.commit()
    jobs.drain(periodic=False)
    assert len(_mails(app)) == 2
    assert {e.key for e in db.session.scalars(select(JobEffect))} == {
        "mail:1:received:1", "mail:1:confirmed:2"}


def test_periodic_jobs_run_in_process_once_per_period(app, plugin_jobs, jobs):
    jobs.drain(now=6000.0)
    jobs.drain(now=6030.0)  # same 60-second period
    assert [c["tag"] for c in plugin_jobs] == ["tick"]
    jobs.drain(now=6060.0)
    assert [c["tag"] for c in plugin_jobs] == ["tick", "tick"]


def test_autoclose_runs_as_a_periodic_job_and_mails_the_customer(app, jobs, client, agent, file_ticket, act):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")
    act(agent, number, "start")
    act(agent, number, "resolve", resolution="Delivered.")
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    ticket.resolved_at = utcnow() - timedelta(days=app.config["AUTO_CLOSE_DAYS"] + 1)
    db.session.commit()
    jobs.drain(now=3600.0 * 10)
    jobs.drain(periodic=False)  # the close's own mail job
    db.session.refresh(ticket)
    assert ticket.status == "closed"
    subjects = [open(p, encoding="utf-8").read() for p in _mails(app)]
    assert sum("Your ticket is closed" in s for s in subjects) == 1


def test_admins_see_the_outbox_and_failed_jobs_and_retry_them(app, plugin_jobs, jobs, client, admin, agent):
    assert client.get("/api/v1/admin/jobs", headers=agent).status_code == 403
    app.config["JOB_RETRIES"] = 0
    with UnitOfWork() as uow:
        job_api.enqueue("test.record", tag="broken", fail_times=1)
        uow.commit()
    jobs.drain(periodic=False)
    body = client.get("/api/v1/admin/jobs", headers=admin).json
    assert body["outbox"] == {"pending": 0, "relayed": 0, "running": 0, "retrying": 0, "failed": 1, "stale": 0,
                              "unrelayed": 0, "failing": 1}
    [failed] = body["failed"]
    assert failed["queue"] == "default" and "ConnectionError: transient failure" in failed["error"]
    assert client.post("/api/v1/admin/jobs/nope/retry", headers=admin).status_code == 404
    response = client.post(f"/api/v1/admin/jobs/{failed['id']}/retry", headers=admin)
    assert response.status_code == 202
    jobs.drain(periodic=False)
    body = client.get("/api/v1/admin/jobs", headers=admin).json
    assert body == {"outbox": {"pending": 0, "relayed": 0, "running": 0, "retrying": 0, "failed": 0, "stale": 0,
                               "unrelayed": 0, "failing": 0}, "failed": [], "queue": "ok"}


def test_any_unfinished_outbox_row_can_be_retried_by_its_number(app, plugin_jobs, jobs, client, admin):
    app.config["JOB_RETRIES"] = 0
    with UnitOfWork() as uow:
        row = job_api.enqueue("test.record", tag="lost")
        uow.commit()
    # Relayed, then lost: as if Redis restarted empty right after the relay.
    jobs.conn.flushall()
    row = db.session.get(OutboxJob, row.id)
    assert row.relayed_at is not None and row.done_at is None
    assert client.post(f"/api/v1/admin/jobs/{row.id}/retry", headers=admin).status_code == 202
    jobs.drain(periodic=False)
    assert [c["tag"] for c in plugin_jobs] == ["lost"]
    db.session.refresh(row)
    assert row.done_at is not None
    # A done row is not retried; neither is a number no row has.
    assert client.post(f"/api/v1/admin/jobs/kefu-outbox-{row.id}/retry", headers=admin).status_code == 404
    assert client.post("/api/v1/admin/jobs/999999/retry", headers=admin).status_code == 404


def test_rows_of_an_undeclared_job_never_block_the_relay(app, jobs, client, file_ticket):
    from service.jobs.outbox import BATCH, relay_job

    db.session.add_all([OutboxJob(name="gone.plugin_job", queue="default", kwargs={}, attempts=0,
                                  created_at=utcnow()) for _ in range(BATCH + 5)])
    db.session.commit()
    conn = app.extensions.pop("kefu_redis")  # as in a process without a queue: no relay at commit
    number = file_ticket()["number"]  # its receipt mail waits behind the dead rows
    app.extensions["kefu_redis"] = conn
    assert relay_job() == BATCH + 5 + 1
    jobs.drain(periodic=False)
    assert len(_mails(app)) == 1 and number in open(_mails(app)[0], encoding="utf-8").read()
    dead = db.session.scalars(select(OutboxJob).where(OutboxJob.name == "gone.plugin_job")).all()
    assert all(r.relayed_at is not None and r.done_at is None and "plugin removed?" in r.last_error for r in dead)


def test_jobs_asked_for_while_the_outbox_is_off_never_run(app, plugin_jobs, jobs):
    """``kefu demo``'s switch: its made-up history's jobs are written done, never relayed or run."""
    with job_api.outbox_off(), UnitOfWork() as uow:
        off = job_api.enqueue("test.record", dedupe_key="demo", tag="made-up")
        assert job_api.enqueue("test.record", dedupe_key="demo", tag="again") is off
        uow.commit()
    with UnitOfWork() as uow:
        job_api.enqueue("test.record", tag="real")
        uow.commit()
    jobs.drain(periodic=False)
    jobs.drain()  # the periodic relay and reconciliation too
    assert [c["tag"] for c in plugin_jobs if c["tag"] != "tick"] == ["real"]  # "tick": the plugin's periodic job
    row = db.session.get(OutboxJob, off.id)
    assert row.done_at is not None and row.relayed_at is not None and row.started_at is None
