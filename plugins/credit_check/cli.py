"""``kefu credit rate [--customer REF] [--quarter Q]`` and ``kefu credit import FILE``
(added with ``register_cli``). Progress bars (tqdm) go to stderr, results to
stdout; the writing is the use cases' (``rating``, ``figures``)."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from tqdm import tqdm

from service import sdk


def _count_rows(path: str) -> int:
    with open(path, "rb") as raw:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
    return max(lines - 1, 0)


@click.group("credit")
def credit_group():
    """Customer credit ratings (AAA, AA, A, B, C) from the scorecard."""


@credit_group.command("rate")
@click.option("--customer", "customer_ref", default=None,
              help="the customer's external_ref, or their id (default: everyone due)")
@click.option("--quarter", default=None, help="the quarter rated, e.g. 2026Q4 (default: the current one)")
@with_appcontext
def credit_rate(customer_ref, quarter):
    """Rate customers from the previous quarter's figures. With --customer,
    rate that customer now (a new rating is kept beside earlier ones);
    without, rate everyone whose rating for the quarter is missing (as the
    quarterly job does)."""
    from . import quarters
    from .rating import rate_customer, rate_due

    if quarter is not None:
        try:
            quarters.check(quarter)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--quarter") from None
    if customer_ref is not None:
        customer_id = sdk.db.session.scalar(select(sdk.Customer.id).where(sdk.Customer.external_ref == customer_ref))
        if customer_id is None and customer_ref.isdigit() and int(customer_ref) < 2**31:
            # not an external_ref: try it as an id
            customer_id = sdk.db.session.scalar(select(sdk.Customer.id).where(sdk.Customer.id == int(customer_ref)))
        if customer_id is None:
            raise click.ClickException(f"no customer with external_ref {customer_ref!r}")
        r = rate_customer(customer_id, quarter, rated_by="cli")
        grade = r.grade if r.status == "rated" else "unrated"
        click.echo(f"{customer_ref} {r.quarter} (from {r.figures_quarter}): {grade}"
                   f"{' ' + str(r.score) if r.score is not None else ''} [{r.source}]"
                   f"{' - ' + r.reason if r.reason else ''}")
        return
    bar = tqdm(desc="rating", unit="customer", file=sys.stderr, total=0)

    def progress(total=None):
        if total is not None:
            bar.reset(total=total)
        else:
            bar.update(1)

    try:
        counts = rate_due(quarter, rated_by="cli", progress=progress)
    finally:
        bar.close()
    click.echo(f"{counts['quarter']}: {counts['rated']} rated, {counts['unrated']} unrated")


@credit_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def credit_import(file):
    """Import figures from CSV: customer_ref,quarter and indicator columns
    (the keys of the scorecard: plugins/credit_check/scorecard.json, or the
    file CREDIT_SCORECARD names). Blank cells are left as they are. Bad rows
    are reported by line; exits 1 when a row was bad."""
    from .figures import import_figures

    try:
        with open(file, encoding="utf-8-sig", newline="") as text, \
                tqdm(total=_count_rows(file), desc="importing", unit="row", file=sys.stderr) as bar:
            result = import_figures(text, progress=lambda: bar.update(1))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    for line, reason in result.errors:
        click.echo(f"line {line}: {reason}", err=True)
    click.echo(f"{result.imported} row(s) imported, {len(result.errors)} rejected")
    if result.errors:
        sys.exit(1)
