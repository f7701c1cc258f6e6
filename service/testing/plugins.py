"""Registering a plugin object for one test, and taking it away after."""
from __future__ import annotations


class PluginRegistrar:
    """The ``kefu_plugins`` fixture: ``kefu_plugins.register(plugin, name)``
    adds a plugin object (a module, a class instance) to the test's app as
    if it were installed; at the end of the test every plugin it added is
    taken away again, its migrations downgraded (on a database that
    outlives the test) and the plugin manager back as it was."""

    def __init__(self, app):
        self.app = app
        self._added: list[tuple[str, bool]] = []  # (name, whether its migrations were applied)

    @property
    def manager(self):
        """The app's plugin manager (``service.hooks.manager.Plugins``)."""
        return self.app.extensions["kefu_plugins"]

    def register(self, plugin, name: str | None = None, *, migrate: bool = True):
        """Register ``plugin`` under ``name`` (default: its ``__name__`` or
        class name), validated and started like an installed plugin: an
        unknown hook, a wrapper or a failing start-up raises, naming it.
        With ``migrate`` (default) the migrations it declares are applied.
        Returns ``plugin``."""
        from service import migrations
        from service.hooks.startup import MIGRATIONS

        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        self.manager.register(plugin, name=name, app=self.app)
        migrated = migrate and name in self.app.extensions.get(MIGRATIONS, {})
        self._added.append((name, migrated))
        if migrated:
            migrations.upgrade()
        return plugin

    def unregister(self, name: str) -> None:
        """Take the plugin ``name`` away now (its migrations stay applied
        until the end of the test)."""
        self.manager.unregister(name, self.app)

    def info(self, name: str):
        """What ``kefu plugins`` shows about ``name`` (a ``PluginInfo``):
        its source, hooks and start-up failures."""
        return next(i for i in self.manager.infos if i.name == name)

    def restore(self) -> None:
        """Undo every ``register`` of this test, newest first."""
        from flask_migrate import downgrade

        from service.extensions import db

        while self._added:
            name, migrated = self._added.pop()
            if migrated and db.engine.dialect.name != "sqlite":  # a SQLite copy is thrown away anyway
                with self.app.app_context():
                    db.session.rollback()
                    downgrade(revision=f"{name}@base")
            self.manager.unregister(name, self.app)
