"""Starting the plugins with the app: their settings, migrations, jobs, routes, commands.

``start`` runs every start-up collector inside an app context, one plugin
at a time, so that a failure is reported with the plugin's name and its
traceback (``Plugins.startup_failures``) instead of stopping the others or
hiding which plugin it was. ``create_app`` then refuses to start when any
failed; ``kefu plugins`` and ``kefu plugins --check`` build the app
anyway, to show what happened.
"""
from __future__ import annotations

import os
import traceback

import flask_smorest

from service.hooks import plugin_settings, ticket_codes
from service.hooks.manager import StartupFailure, _as_list, _call, describe
from service.jobs import registry as jobs

MIGRATIONS = "kefu_plugin_migrations"  # app.extensions: {plugin name: versions directory}


def _settings(app, plugin: str, result) -> None:
    for schema in _as_list(result):
        plugin_settings.declare(app, plugin, schema)


def _ticket_codes(app, plugin: str, result) -> None:
    ticket_codes.declare(app, plugin, result)


def _migrations(app, plugin: str, result) -> None:
    for directory in _as_list(result):
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"register_migrations names {directory}, which is not a directory")
        app.extensions.setdefault(MIGRATIONS, {})[plugin] = directory


def _jobs(app, plugin: str, result) -> None:
    jobs.declare(app, plugin, _as_list(result))


def _blueprints(app, plugin: str, result) -> None:
    for blueprint in _as_list(result):
        if isinstance(blueprint, flask_smorest.Blueprint):
            # Into kefu's API: its OpenAPI document and its error shape.
            app.extensions["kefu_api"].register_blueprint(blueprint)
        else:
            app.register_blueprint(blueprint)


def _cli(app, plugin: str, result) -> None:
    for command in _as_list(result):
        app.cli.add_command(command)


# In this order: settings first (the others may read them), routes before
# the web UI's CSRF set-up sees every blueprint (``create_app``).
STEPS = (
    ("register_settings", lambda app: {}, _settings),
    ("register_ticket_codes", lambda app: {}, _ticket_codes),
    ("register_migrations", lambda app: {}, _migrations),
    ("register_jobs", lambda app: {"app": app}, _jobs),
    ("register_blueprints", lambda app: {"app": app}, _blueprints),
    ("register_cli", lambda app: {"cli": app.cli}, _cli),
)


def start(app, manager, only: str | None = None) -> list[StartupFailure]:
    """Run the start-up collectors of every plugin (or ``only`` the one
    named) for ``app`` (an app context must be active); return the failures,
    also kept on ``manager``."""
    found = []
    failed = {f.plugin for f in manager.startup_failures}
    for hook, arguments, use in STEPS:
        if only is not None and hook in ("register_blueprints", "register_cli") and app._got_first_request:
            continue  # too late for routes: Flask refuses them once it has served
        for impl in manager.impls(hook):
            if (only is not None and impl.plugin_name != only) or impl.plugin_name in failed:
                continue  # one failure per plugin: its later parts would only repeat it
            try:
                result = _call(impl, arguments(app))
                manager._log("collect", hook, impl, result)
                use(app, impl.plugin_name, result)
            except Exception as exc:
                failure = StartupFailure(impl.plugin_name, hook, describe(exc),
                                         "".join(traceback.format_exception(exc)), exc)
                found.append(failure)
                failed.add(impl.plugin_name)
                for info in manager.infos:
                    if info.name == impl.plugin_name:
                        info.failures.append(failure)
    manager.startup_failures += found
    return found
