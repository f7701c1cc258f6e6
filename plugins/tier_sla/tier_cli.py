"""tier_sla's commands: ``kefu transactions import FILE``, ``kefu tiers recompute``,
``kefu tiers show CUSTOMER_REF``. Progress bars go to stderr, results to stdout."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from service import sdk


def _count_lines(path: str) -> int:
    # A quick binary pass for the progress bar's length; the import then streams.
    count, last = 0, b"\n"
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return max(count - 1 + (last != b"\n"), 0)  # minus the header; a last line without "\n" counts


@click.group("transactions")
def transactions_group():
    """Customer transactions (spend), which tiers are computed from."""


@transactions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def transactions_import(file):
    """Import transactions from CSV: customer_ref,date,amount,currency,reference
    (and optionally margin and type: sale, return, exchange or cancellation;
    default sale). customer_ref is the customer's external_ref,
    date YYYY-MM-DD, amount a decimal in TIER_CURRENCY. Bad rows are reported
    by line; rows already imported are skipped. Exits 1 when a row was bad."""
    from .transactions import import_transactions

    rows = _count_lines(file)
    try:
        with open(file, encoding="utf-8-sig", newline="") as text, \
                click.progressbar(length=rows, label="importing", file=sys.stderr) as bar:
            result = import_transactions(text, progress=bar.update)
    except UnicodeDecodeError as exc:  # a clear error, not a traceback
        raise click.ClickException(f"{file} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    for line, reason in result.errors:
        click.echo(f"line {line}: {reason}", err=True)
    click.echo(f"{result.imported} imported, {result.skipped} skipped as already imported, "
               f"{len(result.errors)} rejected")
    if result.errors:
        sys.exit(1)


@click.group("tiers")
def tiers_group():
    """Customer tiers (ABC or pyramid, from TIER_METHOD)."""


@tiers_group.command("recompute")
@with_appcontext
def tiers_recompute():
    """Recompute every customer's tier now (the nightly job does the same)."""
    from .tiers import RECOMPUTE_STEPS, recompute

    with click.progressbar(length=RECOMPUTE_STEPS, label="recomputing", file=sys.stderr) as bar:
        result = recompute(progress=lambda: bar.update(1))
    click.echo(f"{result['customers']} customers ranked by {result['measure']} "
               f"{result['period_from']} to {result['period_to']} ({result['method']}): "
               f"{result['changed']} changed tier, {result['overrides_expired']} override(s) expired, "
               f"{result['seconds']:.2f} s")


@tiers_group.command("show")
@click.argument("customer_ref")
@with_appcontext
def tiers_show(customer_ref):
    """Show a customer's tier (by external_ref): source, value, rank, override, history."""
    from .tiers import detail

    customer_id = sdk.db.session.scalar(select(sdk.Customer.id).where(sdk.Customer.external_ref == customer_ref))
    if customer_id is None:
        raise click.ClickException(f"no customer with external_ref {customer_ref!r}")
    d = detail(customer_id)
    click.echo(f"customer {customer_ref} (id {customer_id}): {d['tier'] or 'no tier yet'}"
               f"{' (' + d['source'] + ')' if d['source'] else ''}")
    if d["computed_tier"] is not None:
        click.echo(f"computed: {d['computed_tier']}, {d['measure']} {d['value']} {d['currency']}, "
                   f"rank {d['rank'] if d['rank'] is not None else '-'} ({d['method']}, at {d['computed_at']:%Y-%m-%d %H:%M} UTC)")
    if d["override"]:
        o = d["override"]
        until = f"{o['until']:%Y-%m-%d %H:%M} UTC" if o["until"] else "until removed"
        state = "" if o["active"] else " [expired]"
        click.echo(f"override: {o['tier']} by staff {o['by']}, {until}{state}: {o['reason']}")
    for change in d["history"]:
        click.echo(f"  {change.at:%Y-%m-%d %H:%M} {change.from_tier or '-'} -> {change.to_tier}: {change.reason}")
