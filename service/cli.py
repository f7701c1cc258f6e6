"""The ``kefu`` command line: a Flask CLI group over ``create_app``, commands by noun.

``kefu run``, ``kefu db upgrade`` (Flask-Migrate), ``kefu staff create``,
``kefu plugins``, ``kefu plugin new``, ``kefu customers import``, ``kefu demo``, ``kefu tickets autoclose``.
"""
from __future__ import annotations

import sys
import time

import click
from flask.cli import FlaskGroup, with_appcontext

from service import create_app
from service.domain.errors import KefuError
from service.mail import cli as mail_cli


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def main():
    """kefu: customer-service tickets (listen, confirm, handle, feed back)."""


def _fail(exc: KefuError):
    fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
    raise click.ClickException(f"{exc.message}{' (' + fields + ')' if fields else ''}")


@main.group()
def staff():
    """Staff accounts."""


@staff.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["agent", "supervisor", "admin", "finance"]),
              help="agent < supervisor < admin; finance reads tickets and approves remedies routed to finance")
@click.option("--department", default=None, help="department code")
@click.option("--password", default=None, help="for the web console (optional)")
@with_appcontext
def staff_create(email, name, role, department, password):
    """Create a staff member; the API token is the last line printed."""
    from service.usecases.staff import create_staff

    try:
        member, token = create_staff(email, name, role, department, password)
    except KefuError as exc:
        _fail(exc)
    click.echo(f"created {member.role} {member.email} (id {member.id})")
    click.echo("API token (shown once):")
    click.echo(token)


@staff.command("token")
@click.option("--email", required=True)
@click.option("--label", default="cli")
@with_appcontext
def staff_token(email, label):
    """Issue another API token for a staff member; the token is the last line printed."""
    from sqlalchemy import func, select

    from service.extensions import db
    from service.models import Staff
    from service.usecases.auth import issue_token

    member = db.session.scalar(select(Staff).where(func.lower(Staff.email) == email.strip().lower()))
    if member is None:
        raise click.ClickException(f"no staff member {email}")
    click.echo(f"API token for {member.email} (shown once):")
    click.echo(issue_token(member, label=label))


@staff.command("revoke-token")
@click.argument("token")
@with_appcontext
def staff_revoke_token(token):
    """Revoke an API token: it stops working at once."""
    from service.usecases.auth import revoke_token

    if not revoke_token(token):
        raise click.ClickException("no such active token")
    click.echo("revoked")


@staff.command("set-password")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="10 to 200 characters; asked for (twice, not shown) when not given")
@with_appcontext
def staff_set_password(email, password):
    """Set a staff member's console password; ends all their console sessions (API tokens stay)."""
    from sqlalchemy import func, select

    from service.extensions import db
    from service.models import Staff
    from service.usecases.staff import set_password

    member = db.session.scalar(select(Staff).where(func.lower(Staff.email) == email.strip().lower()))
    if member is None:
        raise click.ClickException(f"no staff member {email}")
    try:
        set_password(member.id, password)
    except KefuError as exc:
        _fail(exc)
    click.echo(f"password set for {member.email}; their console sessions have ended")


@main.command("plugins", with_appcontext=False)
@click.option("--check", is_flag=True, help="also check settings and migrations; exit 1 on any problem")
def plugins_command(check):
    """List plugins: name, state, source, hooks, and what failed at start.

    Works when a plugin fails and kefu refuses to start: the app is built
    leniently here, to show the failure.
    """
    from flask.cli import ScriptInfo

    from service.hooks.manager import PluginStartupError
    from service.hooks.report import report

    try:
        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    except PluginStartupError:
        app = create_app(strict=False)  # to show what failed, instead of failing
    with app.app_context():
        lines, problems = report(app, check=check)
    for line in lines:
        click.echo(line)
    if problems:
        sys.exit(1)


@main.group("plugin")
def plugin_group():
    """Writing plugins."""


@plugin_group.command("new", with_appcontext=False)
@click.argument("name")
@click.option("--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False),
              help="the folder to create the plugin's folder in")
@click.option("--with-table", is_flag=True, help="also a table of the plugin's own, with its migration")
def plugin_new(name, directory, with_table):
    """Generate an installable plugin package NAME (a guard, a notification,
    a panel, settings, README and tests on kefu's pytest fixtures)."""
    from pathlib import Path

    from service.scaffold import ScaffoldError, new_plugin

    try:
        target = new_plugin(name, Path(directory), with_table=with_table)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        click.echo(f"  wrote {path}")
    click.echo(f"plugin {name} created in {target}. Next:")
    click.echo(f"  pip install -e '{target}[test]'")
    if with_table:
        click.echo("  kefu db upgrade")
    click.echo("  kefu plugins --check")
    click.echo(f"  pytest {target}")


@main.group()
def customers():
    """Customers."""


@customers.command("import")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def customers_import(file):
    """Import customers from UTF-8 CSV (external_ref,name,kind,email,phone,language).

    Bad rows are reported by line and reason, the good ones imported; exits 1
    when a row was rejected. A header lacking or repeating a column, or a file
    that is not UTF-8, imports nothing.
    """
    from service.usecases.customers import NotUtf8, import_customers, utf8_lines

    length = None  # of the progress bar, in lines: known when the file can be read twice (not a pipe)
    if file.seekable():
        length = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 16), b"")) or None
        file.seek(0)
    try:
        with click.progressbar(utf8_lines(file), length=length, label="importing", file=sys.stderr) as read:
            created, updated, errors = import_customers(read)
    except NotUtf8 as exc:  # a clear error, not a traceback; nothing was imported
        raise click.ClickException(f"{file.name} is not UTF-8 text (line {exc.line}); save it as UTF-8 CSV") from None
    for line, reason in errors:
        click.echo(f"line {line}: {reason}", err=True)
    click.echo(f"{created} created, {updated} updated, {len(errors)} rejected")
    if errors:
        sys.exit(1)


@main.command("demo")
@click.option("--if-empty", is_flag=True, help="only load into an empty database")
@click.option("--small", is_flag=True, help="one day and a dozen tickets instead of six months (quick; for tests)")
@with_appcontext
def demo_command(if_empty, small):
    """Load demo data (departments, staff of every role, customers, tickets in
    every status): six months of history through the real use cases, or with
    ``--small`` one day of it."""
    from service.demo import DEMO_LOGINS, has_data, load_demo

    if has_data():
        if not if_empty:
            # The demo's departments, staff and customers would clash with the ones there.
            raise click.ClickException("the database already has data; the demo loads into an empty one "
                                       "(--if-empty skips it quietly)")
        click.echo("database already has data; demo not loaded")
    else:
        started = time.monotonic()
        lines = load_demo("small" if small else "full")
        click.echo(f"demo data loaded in {time.monotonic() - started:.0f} s")
        for line in lines:
            click.echo(f"  {line}")
    click.echo("demo logins (password / API token):")
    for email, role, password, token in DEMO_LOGINS:
        click.echo(f"  {role:<10} {email:<28} {password}  {token}")


@main.group()
def tickets():
    """Tickets."""


@tickets.command("autoclose")
@with_appcontext
def tickets_autoclose():
    """Close resolved tickets left unanswered for AUTO_CLOSE_DAYS."""
    from service.usecases.tickets import close_stale_resolved

    closed = close_stale_resolved()
    click.echo(f"closed {len(closed)}: {' '.join(closed)}")


def _add_commands() -> None:
    # Commands kept in their own modules (by noun); imported here, not at use.
    from service.db_cli import db_group
    from service.jobs.cli import jobs_group, worker

    main.add_command(worker)
    main.add_command(jobs_group)
    # Found before the app's own (Flask-Migrate's) "db": upgrade means every head.
    main.add_command(db_group)


_add_commands()
main.add_command(mail_cli.mail)
