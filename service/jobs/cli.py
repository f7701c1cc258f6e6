"""``kefu worker`` and ``kefu jobs ...``: running and inspecting background jobs."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--queue", "queues", multiple=True, help="queue to work (repeatable; default: all)")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@click.option("--no-periodic", is_flag=True, help="do not enqueue periodic jobs from this worker")
@with_appcontext
def worker(queues, burst, no_periodic):
    """Run an RQ worker (with the scheduler) on REDIS_URL.

    Start as many as you like, on as many machines: each job runs once, and
    each periodic job once per period.
    """
    from service.jobs.runner import work

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("kefu worker needs REDIS_URL (KEFU_REDIS_URL); "
                                   "without it `kefu run` runs jobs in-process")
    work(current_app._get_current_object(), list(queues) or None, burst=burst, periodic=not no_periodic)


@click.group("jobs")
def jobs_group():
    """Background jobs: the outbox, failed jobs."""


@jobs_group.command("status")
@with_appcontext
def jobs_status():
    """Outbox rows waiting to be relayed or to finish, and failed RQ jobs."""
    from service.jobs import admin as job_admin

    summary = job_admin.summary()
    for key, value in summary["outbox"].items():
        click.echo(f"outbox {key:<12} {value}")
    for job in summary["failed"]:
        click.echo(f"failed {job['id']}  {job['queue']:<8} {job['description']}  {job['error']}")


@jobs_group.command("relay")
@with_appcontext
def jobs_relay():
    """Relay committed outbox rows to Redis now."""
    from service.jobs.outbox import relay_job

    click.echo(f"relayed {relay_job()}")


@jobs_group.command("retry")
@click.argument("job_id")
@with_appcontext
def jobs_retry(job_id):
    """Put failed job JOB_ID back on its queue."""
    from service.domain.errors import KefuError
    from service.jobs import admin as job_admin

    try:
        job_admin.retry(job_id)
    except KefuError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"requeued {job_id}")
