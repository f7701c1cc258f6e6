"""The app factory: config -> extensions -> plugins -> blueprints -> cli."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from service.api import init_api
from service.extensions import db, limiter, migrate
from service.hooks.manager import Plugins, make_plugin_manager
from service.jobs import registry as jobs
from service.jobs import runner
from service.settings import load_settings
from service.usecases import history, uow
from service.web import init_web

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer writes; foreign keys are off by
    # default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_app(test_config: dict | None = None) -> Flask:
    """Build a kefu app.

    ``test_config`` overrides every other settings source (see
    ``service.settings``). ``KEFU_INSTANCE_PATH`` moves the instance folder
    (SQLite database, secret key, attachments). Raises when a plugin
    implements an unknown hook.
    """
    instance = os.environ.get("KEFU_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    app = Flask("service", instance_path=os.path.abspath(instance) if instance else str(ROOT / "instance"),
                root_path=str(Path(__file__).parent))
    load_settings(app, test_config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False  # Chinese text stays readable in API answers

    db.init_app(app)
    history.install()
    jobs.install()
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    limiter.init_app(app)

    trace = bool(app.config.get("TRACE_HOOKS"))
    if trace:
        logging.getLogger("kefu.plugins").setLevel(logging.DEBUG)
    pm, infos = make_plugin_manager(app.config["DISABLED_PLUGINS"], trace=trace)
    plugins = Plugins(pm, infos, trace=trace)
    app.extensions["kefu_plugins"] = plugins

    # First of the request hooks: it decides how the request's connection is taken.
    app.before_request(uow.begin_request)
    app.teardown_request(uow.end_request)
    init_api(app)
    for blueprint in plugins.collect("register_blueprints", app=app):
        app.register_blueprint(blueprint)

    @app.before_request
    def _jobs_in_process():
        # Started by the first request, not by the factory: CLI commands and
        # tests build apps too and must not start threads.
        runner.start_in_process_if_wanted(app)

    # Last: CSRF exempts the API by path and must see every blueprint.
    init_web(app)

    for command in plugins.collect("register_cli", cli=app.cli):
        app.cli.add_command(command)
    return app
