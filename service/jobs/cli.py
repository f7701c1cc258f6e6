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
    """Outbox rows not done by state (pending, relayed, running, retrying,
    failed; stale among them), and failed RQ jobs."""
    from service.jobs import admin as job_admin

    summary = job_admin.summary()
    for key in ("pending", "relayed", "running", "retrying", "failed", "stale"):
        click.echo(f"outbox {key:<12} {summary['outbox'][key]}")
    if summary["queue"] == "unreachable":
        click.echo("failed jobs cannot be listed: Redis does not answer")
    for job in summary["failed"]:
        click.echo(f"failed {job['id']}  {job['queue']:<8} {job['description']}  {job['error']}")


@jobs_group.command("relay")
@with_appcontext
def jobs_relay():
    """Relay committed outbox rows to Redis now, and relay again the rows
    whose RQ jobs are gone (Redis restarted empty) or failed for good."""
    from service.jobs.reconcile import reconcile_job

    result = reconcile_job()
    click.echo(f"relayed {result['relayed']}")
    if "outbox" in result:
        click.echo(f"relayed again {result['outbox']['relayed_again']}  failed {result['outbox']['failed']}")


@jobs_group.command("retry")
@click.argument("job_id")
@with_appcontext
def jobs_retry(job_id):
    """Run JOB_ID again: a failed RQ job's id, or the number of any outbox
    job that is not done (42 or kefu-outbox-42)."""
    from service.domain.errors import KefuError
    from service.jobs import admin as job_admin

    try:
        job_admin.retry(job_id)
    except KefuError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"requeued {job_id}")
