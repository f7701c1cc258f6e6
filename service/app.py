"""The app factory: config -> extensions -> plugins -> blueprints -> cli."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from service import limits, migrations, storage
from service.api import init_api
from service.api.input import KefuJSONProvider
from service.extensions import db, limiter, migrate
from service.hooks import failures, startup
from service.hooks.manager import Plugins, PluginStartupError, make_plugin_manager
from service.jobs import registry as jobs
from service.jobs import runner
from service.mail.outgoing.notices import plan_notices
from service.reads import read_only
from service.settings import load_settings
from service.usecases import history, notifications, uow
from service.web import health, init_web
from service.web.cookie import KeptSignerSessionInterface

ROOT = Path(__file__).resolve().parent.parent
# A source checkout (``make run``) keeps its database and secret in ./instance;
# an installed kefu uses Flask's default (``<venv>/var/service-instance``)
# unless KEFU_INSTANCE_PATH says otherwise.
CHECKOUT_INSTANCE = ROOT / "instance" if (ROOT / "setup.cfg").exists() else None


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer writes; foreign keys are off by
    # default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class KefuFlask(Flask):
    """Flask, remembering which of its hooks and views are plain functions.

    Flask asks ``inspect.iscoroutinefunction`` of every before-request,
    after-request and teardown function and of the view, on every request
    (about 20 times; some 5 % of reading a ticket). kefu has no async
    views, and a function does not change kind: the answer is kept.

    Its JSON provider refuses documents nested too deep (``service.api.input``);
    its session interface keeps the cookie's signer (``service.web.cookie``).
    """

    json_provider_class = KefuJSONProvider

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_interface = KeptSignerSessionInterface()  # per app: its keys' signer

    def ensure_sync(self, func):
        known = self.__dict__.setdefault("_kefu_sync", {})
        found = known.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(known) < 1000:  # bounded: a function made per request is not kept
                known[func] = found
        return found


def create_app(test_config: dict | None = None, *, strict: bool = True, plugins: tuple = ()) -> Flask:
    """Build a kefu app.

    ``test_config`` overrides every other settings source (see
    ``service.settings``). ``KEFU_INSTANCE_PATH`` (or ``INSTANCE_PATH`` in
    ``test_config``) moves the instance folder (SQLite database, secret key,
    attachments). ``plugins``: ``(name, plugin object)`` pairs to register
    as if installed (tests). Raises ``PluginStartupError`` naming every
    plugin that failed to load or to start, unless ``strict`` is false
    (``kefu plugins`` shows them then: ``app.extensions["kefu_plugins"].startup_failures``).
    """
    instance = os.environ.get("KEFU_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    instance = os.path.abspath(instance) if instance else (str(CHECKOUT_INSTANCE) if CHECKOUT_INSTANCE else None)
    app = KefuFlask("service", instance_path=instance, root_path=str(Path(__file__).parent))
    load_settings(app, test_config)
    storage.init_app(app)  # a wrong ATTACHMENT_* setting stops the start, naming it
    app.json.sort_keys = False
    app.json.ensure_ascii = False  # Chinese text stays readable in API answers

    db.init_app(app)
    history.install()
    jobs.install()
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(migrations.HERE))
    if migrations.configure not in migrate.configure_callbacks:
        migrate.configure(migrations.configure)
    limiter.init_app(app)
    limits.init_app(app)
    # The unit of work knows no feature by name: customer and staff mail
    # plans its jobs through this hook of the unit of work.
    uow.add_planner(app, plan_notices)
    # Staff notices are written after the change commits (a failure there
    # never undoes it), from what the change emitted.
    uow.add_listener(app, notifications.after_commit)

    trace = bool(app.config.get("TRACE_HOOKS"))
    if trace:
        logging.getLogger("kefu.plugins").setLevel(logging.DEBUG)
    pm, infos, failed = make_plugin_manager(app.config["DISABLED_PLUGINS"], trace=trace, extra=plugins)
    manager = Plugins(pm, infos, trace=trace, startup_failures=failed,
                      fail_closed=app.config.get("GUARDS_FAIL_CLOSED") or ())
    app.extensions["kefu_plugins"] = manager

    # First of the request hooks: it decides how the request's connection is taken.
    app.before_request(read_only.begin_request)

    @app.teardown_request
    def _end_request(_exc=None):
        read_only.end_request()
        # Plugin failures met during the request are counted once it is over.
        failures.flush(app)
    init_api(app)
    # /healthz and /readyz, and the 503 for an unreachable database (API and pages).
    health.init_app(app)
    with app.app_context():
        # Settings, migrations, jobs, routes and commands of every plugin,
        # each plugin on its own so that a failure names it.
        startup.start(app, manager)

    @app.before_request
    def _jobs_in_process():
        # Started by the first request, not by the factory: CLI commands and
        # tests build apps too and must not start threads.
        runner.start_in_process_if_wanted(app)

    # Last: CSRF exempts the API by path and must see every blueprint.
    init_web(app)
    if strict and manager.startup_failures:
        raise PluginStartupError(manager.startup_failures)
    return app
