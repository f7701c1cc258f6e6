"""The plugin manager: discovery, enabling, and the three ways hooks are called.

Builtin plugins (in ``plugins/``) and third-party ones are found the same way,
through the ``kefu`` entry-point group; ``DISABLED_PLUGINS`` names entry points
not to load. The core's decider defaults are registered as the plugin
``core``.
"""
from __future__ import annotations

import logging
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata

import pluggy
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.extensions import db
from service.hooks import defaults
from service.hooks import specs as hookspecs

log = logging.getLogger("kefu.plugins")

ENTRY_POINT_GROUP = "kefu"
CORE = "core"  # the name the core's decider defaults are registered under


@dataclass
class PluginInfo:
    """What ``kefu plugins`` and ``GET /api/v1/plugins`` show about one plugin."""

    name: str
    source: str  # "core", "builtin (kefu 0.1.0)" or "<dist> <version>"
    enabled: bool
    module: str | None = None
    hooks: list[str] = field(default_factory=list)


def make_plugin_manager(disabled=(), trace: bool = False):
    """Build a pluggy manager with the core defaults and every enabled entry point.

    Returns ``(pm, infos)``. Raises ``pluggy.PluginValidationError`` when a
    plugin implements a hook that does not exist (``check_pending``), so a
    misspelt hook name fails at start, not silently.
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name=CORE)
    infos = [PluginInfo(CORE, CORE, True, defaults.__name__)]
    disabled = set(disabled)
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist
        source = f"{dist.name} {dist.version}" if dist else "unknown"
        if dist and dist.name == "kefu":
            source = f"builtin ({source})"
        if ep.name in disabled:
            pm.set_blocked(ep.name)
            infos.append(PluginInfo(ep.name, source, False, ep.value))
            continue
        if pm.get_plugin(ep.name) is not None:
            continue
        pm.register(ep.load(), name=ep.name)
        infos.append(PluginInfo(ep.name, source, True, ep.value))
    pm.check_pending()
    for info in infos:
        plugin = pm.get_plugin(info.name)
        if plugin is not None:
            info.hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
    if trace:
        pm.trace.root.setwriter(lambda msg: log.debug("hook %s", msg.rstrip()))
        pm.enable_tracing()
    return pm, infos


_LAZY = "kefu_plugin_savepoint"  # Session.info key: the decider being isolated
# Session.info key set by ``uow.begin_request`` for a read-only request: its
# statements run outside a transaction (autocommit on PostgreSQL; SQLite's
# driver opens none for reads), so there is none for a failure to abort, and
# none to hold a savepoint.
NO_TRANSACTION = "kefu_no_transaction"


def _savepoint_on_first_query(orm_execute_state) -> None:
    # The first statement a decider runs through the session begins its
    # savepoint; one that only computes (most answers) costs no round trips.
    session = orm_execute_state.session
    state = session.info.get(_LAZY)
    if state is not None and state["savepoint"] is None and not session.info.get(NO_TRANSACTION):
        state["savepoint"] = session.begin_nested()


def install_isolation() -> None:
    """Listen for deciders' first queries on every session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _savepoint_on_first_query):
        event.listen(Session, "do_orm_execute", _savepoint_on_first_query)


@contextmanager
def _isolated(session):
    """Run one decider so that its failure cannot harm the use case: no
    autoflush (the use case's pending changes are not the plugin's to
    write), and a savepoint from its first query on (a failed query would
    abort the whole transaction on PostgreSQL), rolled back if it raises.
    Queries must go through the session (``db.session``) to be covered."""
    state, previous = {"savepoint": None}, session.info.get(_LAZY)
    session.info[_LAZY] = state
    try:
        with session.no_autoflush:
            yield
    except BaseException:
        session.info[_LAZY] = previous
        if state["savepoint"] is not None and state["savepoint"].is_active:
            state["savepoint"].rollback()
        raise
    session.info[_LAZY] = previous
    if state["savepoint"] is not None and state["savepoint"].is_active:
        state["savepoint"].commit()


def _call(impl, kwargs):
    # Hooks are keyword-only; an implementation takes any subset of arguments.
    return impl.function(**{name: kwargs[name] for name in impl.argnames})


class Plugins:
    """Calls hooks for the app, with the isolation rules of ``service.hooks.specs``."""

    def __init__(self, pm, infos, trace=False):
        self.pm, self.infos, self.trace = pm, infos, trace
        install_isolation()

    def notify(self, hook: str, **kwargs) -> list[tuple[str, BaseException]]:
        """Call every implementation of notification ``hook``, each isolated.

        Returns the ``(plugin name, exception)`` pairs of implementations
        that raised; the caller records them (see ``service.usecases.history``).
        """
        failures = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            try:
                if self.trace:
                    log.debug("notify %s -> %s", hook, impl.plugin_name)
                _call(impl, kwargs)
            except Exception as exc:  # a plugin's failure never fails the request
                log.error("plugin %s failed in %s: %s\n%s", impl.plugin_name, hook, exc,
                          "".join(traceback.format_exception(exc)))
                failures.append((impl.plugin_name, exc))
                # Discard what the failed plugin left (already committed data
                # stays): on PostgreSQL a failed query aborts the transaction,
                # and the next plugins' reads would fail with it.
                db.session.rollback()
        return failures

    def decide(self, hook: str, validate=None, **kwargs):
        """Ask decider ``hook``; return ``(answer, plugin name, failures)``.

        Implementations are asked in pluggy's order (tryfirst ... trylast, the
        core default last); the first non-None answer wins. One that raises
        is skipped and reported in ``failures``, and so is one whose answer
        ``validate(answer)`` rejects by raising ``ValueError``.
        """
        failures = []
        impls = list(reversed(getattr(self.pm.hook, hook).get_hookimpls()))
        if any(impl.plugin_name != CORE for impl in impls):
            # Flushed before the first plugin and outside its isolation, so
            # that a flush error (a concurrent write: the use case's 409) is
            # raised as such, not mistaken for the plugin's failure.
            db.session.flush()
        for impl in impls:
            try:
                if impl.plugin_name == CORE:
                    # The core defaults only compute: no savepoint round trips.
                    answer = _call(impl, kwargs)
                else:
                    with _isolated(db.session):
                        answer = _call(impl, kwargs)
                if answer is not None and validate is not None:
                    validate(answer)
            except Exception as exc:
                log.error("plugin %s failed in %s: %s", impl.plugin_name, hook, exc)
                failures.append((impl.plugin_name, exc))
                continue
            if self.trace:
                log.debug("decide %s <- %s: %r", hook, impl.plugin_name, answer)
            if answer is not None:
                return answer, impl.plugin_name, failures
        return None, None, failures

    def collect(self, hook: str, **kwargs) -> list:
        """Gather every implementation's result of collector ``hook``, flattened.

        Collectors run at start or on reads; a failure here is a programming
        error and is raised.
        """
        out = []
        for result in getattr(self.pm.hook, hook)(**kwargs):
            if result is None:
                continue
            out.extend(result if isinstance(result, (list, tuple)) else [result])
        return out

    def collect_with_names(self, hook: str, **kwargs) -> list[tuple[str, object]]:
        """As ``collect``, each item paired with the name of the plugin that gave it."""
        out = []
        caller = getattr(self.pm.hook, hook)
        # pluggy calls the last registered first; keep that order.
        for impl in reversed(caller.get_hookimpls()):
            result = _call(impl, kwargs)
            if result is None:
                continue
            name = self.pm.get_name(impl.plugin) or impl.plugin_name
            out.extend((name, item) for item in (result if isinstance(result, (list, tuple)) else [result]))
        return out


def describe_failure(exc: BaseException) -> str:
    """A one-line description of a plugin error for the ticket history."""
    return f"{type(exc).__name__}: {exc}"[:500]
