"""The plugin manager's calls: how each kind of hook is called, one
implementation at a time, so that each failure is its own (see the kinds in
``service.hooks.specs``). Loading and validating plugins is ``loading``.
"""
from __future__ import annotations

import logging
import re
import traceback

import pluggy

from service.db_errors import is_database_unavailable
from service.extensions import db
from service.hooks import failures, isolation
from service.hooks.loading import (  # noqa: F401  (the names callers know the manager by)
    CORE,
    ENTRY_POINT_GROUP,
    PluginInfo,
    PluginStartupError,
    StartupFailure,
    _refuse_wrappers,
    _unknown_hooks,
    make_plugin_manager,
)
from service.hooks.types import Opening, Refusal, check

log = logging.getLogger("kefu.plugins")


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def describe(exc: BaseException) -> str:
    """A one-line description of a plugin error for the ticket history."""
    return failures.describe(exc)


def _raise_outage(exc: BaseException) -> None:
    """Re-raise ``exc`` when it is the database going away, not the plugin
    failing: the use case then answers 503 with nothing written, instead of
    counting a plugin failure and carrying on with a dead transaction."""
    if is_database_unavailable(exc):
        raise exc


def _call(impl, kwargs):
    # Hooks are keyword-only; an implementation takes any subset of arguments.
    return impl.function(**{name: kwargs[name] for name in impl.argnames})


def _as_list(result) -> list:
    if result is None:
        return []
    return list(result) if isinstance(result, (list, tuple)) else [result]


class Plugins:
    """Calls hooks for the app, with the isolation rules of ``service.hooks.specs``."""

    def __init__(self, pm, infos, trace=False, startup_failures=(), fail_closed=()):
        self.pm, self.infos, self.trace = pm, infos, trace
        self.startup_failures = list(startup_failures)
        self.fail_closed = set(fail_closed)
        isolation.install()

    # ------------------------------------------------------------------ registering late

    def register(self, plugin, name: str, app=None) -> None:
        """Register ``plugin`` under ``name`` on a running app, as if it had
        been installed: validated like any plugin (raises
        ``pluggy.PluginValidationError`` for a wrapper or an unknown hook, and
        what its start-up raises, naming it), then its start-up collectors
        run (settings, migrations, jobs; routes and commands while the app
        has served no request). For tests and tools; ``unregister`` undoes it."""
        from flask import current_app

        from service.hooks import startup

        app = app or current_app._get_current_object()
        self.pm.register(plugin, name=name)
        try:
            _refuse_wrappers(self.pm, plugin, name)
            if hasattr(plugin, "register_hookspecs") and plugin.register_hookspecs() is not None:
                self.pm.add_hookspecs(plugin.register_hookspecs())
            problems = _unknown_hooks(self.pm, plugin)
            if problems:
                raise pluggy.PluginValidationError(plugin, f"plugin {name}: " + "; ".join(problems))
            info = PluginInfo(name, "registered by code", True, getattr(plugin, "__name__", type(plugin).__name__))
            info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            self.infos.append(info)
            found = startup.start(app, self, only=name)
            if found:
                raise found[0].exc
        except BaseException:
            self.unregister(name, app)
            raise
        app.extensions.pop("kefu_jobs", None)  # the job registry is rebuilt with its jobs

    def unregister(self, name: str, app=None) -> None:
        """Undo ``register``: the plugin's hooks, jobs and settings are gone."""
        from flask import current_app

        from service.hooks import plugin_settings, startup, ticket_codes
        from service.jobs import registry as jobs

        app = app or current_app._get_current_object()
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self.infos[:] = [info for info in self.infos if info.name != name]
        self.startup_failures[:] = [f for f in self.startup_failures if f.plugin != name]
        declared = app.extensions.get(jobs.DECLARATIONS)
        if declared:
            declared[:] = [(plugin, entry) for plugin, entry in declared if plugin != name]
        app.extensions.get(plugin_settings.SETTINGS, {}).pop(name, None)
        app.extensions.get(startup.MIGRATIONS, {}).pop(name, None)
        ticket_codes.forget(app, name)
        app.extensions.pop("kefu_jobs", None)

    # ------------------------------------------------------------------ helpers

    def impls(self, hook: str) -> list:
        """The implementations of ``hook`` in calling order (tryfirst ... trylast)."""
        caller = getattr(self.pm.hook, hook, None)
        return list(reversed(caller.get_hookimpls())) if caller is not None else []

    def kind(self, hook: str) -> str | None:
        """The kind of ``hook`` (``notification``, ``guard``, ...), from its spec's marker."""
        caller = getattr(self.pm.hook, hook, None)
        spec = caller.spec if caller is not None else None
        return getattr(spec.function, "kefu_kind", None) if spec is not None else None

    def _failed(self, impl, hook: str, exc: BaseException, count: bool = True) -> None:
        log.error("plugin %s failed in %s: %s\n%s", impl.plugin_name, hook, exc, _trace(exc))
        if count:
            failures.count(impl.plugin_name, hook, exc)

    def _log(self, what: str, hook: str, impl, answer=None) -> None:
        if self.trace:
            if answer is None:
                log.debug("%s %s -> %s", what, hook, impl.plugin_name)
            else:
                log.debug("%s %s <- %s: %r", what, hook, impl.plugin_name, answer)

    # ------------------------------------------------------------------ the kinds

    def notify(self, hook: str, **kwargs) -> list[tuple[str, BaseException]]:
        """Call every implementation of notification ``hook``, each isolated.

        Returns the ``(plugin name, exception)`` pairs of implementations
        that raised; the caller records them (see ``service.usecases.history``).
        """
        found = []
        for impl in self.impls(hook):
            try:
                self._log("notify", hook, impl)
                _call(impl, kwargs)
            except Exception as exc:  # a plugin's failure never fails the request
                self._failed(impl, hook, exc)
                found.append((impl.plugin_name, exc))
                # Discard what the failed plugin left (already committed data
                # stays): on PostgreSQL a failed query aborts the transaction,
                # and the next plugins' reads would fail with it. Notifications
                # come after the commit: a database outage here is recorded,
                # never raised (the change they announce is stored).
                try:
                    db.session.rollback()
                except Exception as rollback_error:  # noqa: BLE001 - the connection died with the outage
                    if not is_database_unavailable(rollback_error):
                        raise
        return found

    def decide(self, hook: str, validate=None, **kwargs):
        """Ask decider ``hook``; return ``(answer, plugin name, failures)``.

        Implementations are asked in pluggy's order (tryfirst ... trylast, the
        core default last); the first non-None answer wins. One that raises
        is skipped and reported in ``failures``, and so is one whose answer
        ``validate(answer)`` rejects by raising ``ValueError``.
        """
        return self.decide_each(hook, [kwargs], validate)[0]

    def decide_each(self, hook: str, calls: list[dict], validate=None) -> list[tuple]:
        """Ask decider ``hook`` once per keyword set in ``calls`` (e.g. for each
        customer of a page); return one ``decide`` answer per call, in order.
        Each call is asked exactly as ``decide`` asks it; what does not
        depend on the call (the implementations, the session, the flush) is
        done once."""
        impls = self.impls(hook)
        session = db.session()
        # A read-only request (``read_only``) has no transaction to protect
        # and nothing pending to flush; a list asks deciders for every row.
        in_transaction = not session.info.get(isolation.NO_TRANSACTION)
        if in_transaction and any(impl.plugin_name != CORE for impl in impls):
            # Flushed before the first plugin and outside its isolation, so
            # that a flush error (a concurrent write: the use case's 409) is
            # raised as such, not mistaken for the plugin's failure.
            session.flush()
        return [self._decide_one(hook, impls, session, in_transaction, validate, kwargs) for kwargs in calls]

    def _decide_one(self, hook, impls, session, in_transaction: bool, validate, kwargs) -> tuple:
        found = []
        for impl in impls:
            try:
                if impl.plugin_name == CORE or not in_transaction:
                    # The core defaults only compute: no savepoint round trips.
                    answer = _call(impl, kwargs)
                else:
                    with isolation.isolated(session):
                        answer = _call(impl, kwargs)
                if answer is not None and validate is not None:
                    validate(answer)
            except Exception as exc:
                _raise_outage(exc)
                self._failed(impl, hook, exc)
                found.append((impl.plugin_name, exc))
                continue
            self._log("decide", hook, impl, answer)
            if answer is not None:
                return answer, impl.plugin_name, found
        return None, None, found

    def guard(self, hook: str, **kwargs) -> tuple[Refusal | None, str | None, list]:
        """Ask guard ``hook``; return ``(refusal, plugin name, failures)``.

        The first refusal stops the asking. A guard that raises or answers
        malformed is a failure and no objection, unless its plugin is in
        ``GUARDS_FAIL_CLOSED``: then it refuses with code ``plugin_unavailable``.
        """
        found = []
        impls = self.impls(hook)
        if impls:
            db.session.flush()  # a concurrent write is the use case's 409, not the guard's failure
        for impl in impls:
            try:
                with isolation.isolated(db.session):
                    answer = _call(impl, kwargs)
                if answer is not None:
                    check(answer, Refusal)
                    if not _CODE.fullmatch(answer["code"]):
                        raise ValueError(f"refusal code {answer['code']!r} must be a-z, 0-9 and _ (at most 60)")
            except Exception as exc:
                _raise_outage(exc)
                self._failed(impl, hook, exc)
                found.append((impl.plugin_name, exc))
                if impl.plugin_name in self.fail_closed:
                    answer = {"code": "plugin_unavailable",
                              "message": f"The change could not be checked (plugin {impl.plugin_name} failed); "
                                         "try again later."}
                else:
                    continue
            self._log("guard", hook, impl, answer)
            if answer is not None:
                return {"code": answer["code"], "message": str(answer["message"])[:500]}, impl.plugin_name, found
        return None, None, found

    def open(self, hook: str, draft, apply, **kwargs) -> list:
        """Ask opener ``hook`` plugin by plugin; ``apply(draft, plugin, opening)``
        applies one answer and returns the next draft (raising ``ValueError``
        for changes it cannot make). Returns the failures; answers that raise
        or are malformed change nothing."""
        found = []
        for impl in self.impls(hook):
            try:
                with isolation.isolated(db.session):
                    answer = _call(impl, {**kwargs, "draft": draft})
                if answer is None:
                    continue
                check(answer, Opening)
                self._log("open", hook, impl, answer)
                draft = apply(draft, impl.plugin_name, answer)
            except Exception as exc:
                _raise_outage(exc)
                self._failed(impl, hook, exc)
                found.append((impl.plugin_name, exc))
        return found

    def step(self, hook: str, check_item=None, **kwargs) -> list[tuple[str, object]]:
        """Call step ``hook`` plugin by plugin inside the caller's transaction;
        return every answer's items as ``(plugin, item)``.

        Not isolated: a step writes, and the first that raises (or whose item
        ``check_item`` rejects) is counted and raised as ``PluginCallError``
        naming the plugin, so that the caller rolls the whole change back.
        """
        out = []
        for impl in self.impls(hook):
            try:
                self._log("step", hook, impl)
                items = _as_list(_call(impl, kwargs))
                for item in items:
                    if check_item is not None:
                        check_item(item)
            except Exception as exc:
                _raise_outage(exc)
                self._failed(impl, hook, exc)
                raise PluginCallError(impl.plugin_name, hook, exc) from exc
            out.extend((impl.plugin_name, item) for item in items)
        return out

    def collect(self, hook: str, *, only_taking: str | None = None, **kwargs) -> list:
        """Gather every implementation's part of collector ``hook``, flattened.

        For start-up collectors (``register_*``): a failure raises, naming
        the plugin (``create_app`` reports it and refuses to start). With
        ``only_taking``, only the implementations that take that argument
        are called (``demo_data``'s first stage is for those that know it).
        """
        return [item for _, item in self.collect_with_names(hook, only_taking=only_taking, **kwargs)]

    def collect_with_names(self, hook: str, *, only_taking: str | None = None, **kwargs) -> list[tuple[str, object]]:
        """As ``collect``, each item paired with the name of the plugin that gave it."""
        out = []
        for impl in self.impls(hook):
            if only_taking is not None and only_taking not in impl.argnames:
                continue
            try:
                result = _call(impl, kwargs)
            except Exception as exc:
                raise PluginCallError(impl.plugin_name, hook, exc) from exc
            self._log("collect", hook, impl, result)
            out.extend((impl.plugin_name, item) for item in _as_list(result))
        return out

    def collect_isolated(self, hook: str, check_item=None, **kwargs) -> list[tuple[str, object]]:
        """Gather a read collector's parts as ``(plugin, item)``. A plugin
        that raises yields one ``(plugin, FAILED)``; an item ``check_item``
        rejects (``ValueError``) is replaced by ``(plugin, FAILED)`` while the
        plugin's other items stay. Each failure is logged and counted."""
        out = []
        for impl in self.impls(hook):
            try:
                items = _as_list(_call(impl, kwargs))
            except Exception as exc:
                self._failed(impl, hook, exc)
                out.append((impl.plugin_name, FAILED))
                continue
            self._log("collect", hook, impl, items)
            for item in items:
                try:
                    if check_item is not None:
                        check_item(item)
                except Exception as exc:
                    self._failed(impl, hook, exc)
                    item = FAILED
                out.append((impl.plugin_name, item))
        return out


FAILED = object()
"""``collect_isolated``'s item for a plugin whose part could not be had."""

_CODE = re.compile(r"[a-z][a-z0-9_]{0,59}")


class PluginCallError(RuntimeError):
    """A start-up collector's implementation raised; names the plugin."""

    def __init__(self, plugin: str, hook: str, exc: BaseException):
        self.plugin, self.hook, self.original = plugin, hook, exc
        super().__init__(f"plugin {plugin} failed in {hook}: {describe(exc)}")
