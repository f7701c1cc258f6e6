"""Jobs on a real redis-server with real ``kefu worker`` processes and a real SMTP server."""
from __future__ import annotations


import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from service.jobs import registry as jobs
from service.extensions import db
from service.models import JobEffect, OutboxJob
from service.jobs.runner import tick
from service.usecases.uow import UnitOfWork

from jobparts import smtp_settings, wait_until


@pytest.fixture
def overrides(redis_server, smtp_sink):
    # Short heartbeats and maintenance, so abandoned jobs are found in seconds.
    return {"REDIS_URL": redis_server.url, "JOB_MONITORING_SECONDS": 1, "JOB_MAINTENANCE_SECONDS": 2,
            **smtp_settings(smtp_sink)}


def _queued(redis_server) -> int:
    conn = Redis.from_url(redis_server.url)
    try:
        return sum(Queue(name, connection=conn).count for name in ("mail", "default", "webhooks", "sla"))
    finally:
        conn.close()


def _outbox():
    db.session.rollback()
    return db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()


def _subjects(sink):
    return [m["Subject"] for m in sink.handler_obj.messages]


def test_a_rolled_back_change_enqueues_nothing(app, client, agent, file_ticket, redis_server, smtp_sink):
    number = file_ticket(email=None, phone="13800000000")["number"]  # no address: no receipt mail
    assert _queued(redis_server) == 0
    # A refused transition (resolve needs a resolution) is rolled back whole.
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    response = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                           json={"action": "confirm", "version": version, "department": "no_such_dept"})
    assert response.status_code == 422
    # A use case that asked for a job and then failed leaves no row and no job.
    with pytest.raises(RuntimeError):
        with UnitOfWork():
            jobs.enqueue("mail.staff_alert", staff_id=1, ticket_id=1, kind="x", text="", key="k")
            db.session.flush()
            raise RuntimeError("the use case fails after asking for a job")
    assert _outbox() == []
    assert _queued(redis_server) == 0


def test_change_committed_while_redis_is_down_runs_once_after_restart(
        app, client, agent, file_ticket, act, redis_server, smtp_sink, workers):
    number = file_ticket()["number"]
    workers.run_burst("--no-periodic")
    assert _subjects(smtp_sink) == [f"[{number}] We have received your complaint: Washing machine not delivered"]

    redis_server.stop()
    act(agent, number, "confirm", department="logistics")  # commits although Redis is gone
    pending = [row for row in _outbox() if row.relayed_at is None]
    assert [(row.name, row.kwargs["notice"]) for row in pending] == [("mail.notice", "confirmed")]

    redis_server.start()  # same port, empty: the job exists only in the outbox
    output = workers.run_burst()  # the worker's ticker relays the outbox (periodic job)
    wait_until(lambda: len(smtp_sink.handler_obj.messages) == 2, what="the confirmed mail", timeout=30)
    assert _subjects(smtp_sink)[1] == f"[{number}] Your ticket is with our Logistics team", output

    # Relaying and working again changes nothing: one mail per change.
    with app.app_context():
        from service.jobs.outbox import relay_job
        relay_job()
    workers.run_burst("--no-periodic")
    assert len(smtp_sink.handler_obj.messages) == 2
    assert all(row.done_at is not None for row in _outbox())


def test_worker_killed_mid_job_still_mails_exactly_once(
        app, client, agent, file_ticket, act, redis_server, smtp_sink, workers):
    number = file_ticket(email=None, phone="13800000001")["number"]
    db.session.rollback()
    from service.models import Customer, Ticket
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    db.session.get(Customer, ticket.customer_id).email = "li@example.test"
    db.session.commit()
    smtp_sink.handler_obj.hold_first = True  # the first delivery hangs in DATA
    first = workers.start("--no-periodic")
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    # The confirm mail is the first job: it hangs; kill its worker (and that
    # worker's scheduler) as if the machine died.
    wait_until(smtp_sink.handler_obj.holding.is_set, timeout=30, what="the mail job to reach the SMTP server")
    workers.kill(first)
    smtp_sink.handler_obj.release.set()

    # Another worker finds the job abandoned (no heartbeat for 3 s here), RQ
    # schedules its retry, and with the dead worker's scheduler lock still
    # held, the maintenance pass moves the overdue retry; the retry takes
    # over the effect's claim and sends.
    workers.start("--no-periodic")
    wait_until(lambda: len(smtp_sink.handler_obj.messages) == 1, timeout=60, what="the retried mail")
    act(agent, number, "wait")  # a later job still works after the kill
    wait_until(lambda: len(smtp_sink.handler_obj.messages) == 2, timeout=30, what="the next mail")
    subjects = _subjects(smtp_sink)
    assert subjects == [f"[{number}] Your ticket is with our After-sales team",
                        f"[{number}] We need something from you: Washing machine not delivered"]

    def settled():
        # The worker marks the rows done after the SMTP server has the mail: wait for that commit.
        db.session.rollback()
        rows, effects = _outbox(), db.session.scalars(select(JobEffect)).all()
        done = len(effects) == 2 and all(e.done_at for e in effects) and all(
            r.done_at for r in rows if r.kwargs.get("notice") in ("confirmed", "waiting"))
        return (rows, effects) if done else None

    rows, effects = wait_until(settled, timeout=30, what="the worker to mark both mails done")
    confirm = next(r for r in rows if r.kwargs["notice"] == "confirmed")
    assert confirm.done_at is not None and confirm.attempts == 2
    assert len(effects) == 2 and all(e.done_at for e in effects)


def test_each_periodic_job_is_enqueued_once_per_period_by_any_number_of_tickers(app, redis_server):
    first, second = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        names = {spec.name for spec in jobs.periodic(app)}
        assert {"outbox.relay", "tickets.autoclose"} <= names
        t = 3600 * 1000.0  # a period boundary for every interval
        assert set(tick(app, first, now=t)) == names
        assert tick(app, second, now=t + 0.5) == []
        assert tick(app, first, now=t + 1) == []
        # The next period of the 15-second relay starts at t + 15.
        assert tick(app, second, now=t + 15) == ["outbox.relay"]
        assert Queue("system", connection=first).count == len(
            [s for s in jobs.periodic(app) if s.queue == "system"]) + 1
    finally:
        first.close()
        second.close()


def test_two_workers_share_the_jobs_and_each_mail_goes_out_once(
        app, client, agent, file_ticket, redis_server, smtp_sink, workers):
    numbers = [file_ticket(subject=f"Parcel {i}")["number"] for i in range(12)]
    workers.start("--no-periodic")
    workers.start("--no-periodic")
    wait_until(lambda: len(smtp_sink.handler_obj.messages) >= 12, timeout=40, what="12 receipts")
    received = sorted(m["X-Kefu-Ticket"] for m in smtp_sink.handler_obj.messages)
    assert received == sorted(numbers)



def test_a_burst_worker_ticks_once_and_stops(app, redis_server, workers):
    # Every periodic job due each second, and a job that keeps the worker busy
    # across several of those periods: a burst worker that went on ticking
    # while it worked would find the next second's jobs queued each time it
    # looked (on a slow machine, for ever). It ticks once and works that.
    every_second = {spec.name: 1 for spec in jobs.periodic(app)}
    workers.config = {**workers.config, "JOB_INTERVALS": every_second}
    conn = Redis.from_url(redis_server.url)
    try:
        import time
        Queue("default", connection=conn).enqueue(time.sleep, 2.5, description="a long job")
    finally:
        conn.close()
    output = workers.run_burst(timeout=120)
    assert "done, quitting" in output
    for name in every_second:
        assert output.count(f"completed {name} (periodic, every 1 s)") == 1, (name, output)
    assert _queued(redis_server) == 0
