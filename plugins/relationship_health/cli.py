"""relationship_health's commands: ``kefu health recompute`` and ``kefu health
show CUSTOMER_REF``. Progress bars go to stderr, results to stdout."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from service import sdk


@click.group("health")
def health_group():
    """Customers' relationship health: churn-risk signals, score and level."""


@health_group.command("recompute")
@with_appcontext
def health_recompute():
    """Recompute every customer's health now (the periodic job does the same)."""
    from .recompute import id_span, recompute

    with click.progressbar(length=id_span(), label="recomputing", file=sys.stderr) as bar:
        result = recompute(progress=bar.update)
    click.echo(f"{result['customers']} customers in {result['chunks']} range(s): {result['changed']} changed "
               f"level, {result['seconds']:.2f} s")
    for name in result["failed_signals"]:
        click.echo(f"signal {name} failed and scored nothing (see the log)", err=True)


@health_group.command("show")
@click.argument("customer_ref")
@with_appcontext
def health_show(customer_ref):
    """Show a customer's health (by external_ref): score, level, signals, history."""
    from .detail import detail

    customer_id = sdk.db.session.scalar(select(sdk.Customer.id).where(sdk.Customer.external_ref == customer_ref))
    if customer_id is None:
        raise click.ClickException(f"no customer with external_ref {customer_ref!r}")
    d = detail(customer_id)
    if d["level"] is None:
        click.echo(f"customer {customer_ref} (id {customer_id}): not computed yet")
        return
    click.echo(f"customer {customer_ref} (id {customer_id}): {d['level']}, score {d['score']} "
               f"(at {d['computed_at']:%Y-%m-%d %H:%M} UTC)")
    for s in d["signals"]:
        click.echo(f"  {s['name']}: {s['value'] if s['value'] is not None else '-'} "
                   f"{s['comparison']} {s['threshold']} -> {s['points']}/{s['max_points']}: {s['explanation']}")
    for h in d["history"]:
        click.echo(f"  {h['at']:%Y-%m-%d %H:%M} {h['from_level'] or '-'} -> {h['to_level']} (score {h['score']})")
