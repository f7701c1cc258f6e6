"""Finding and loading plugins: entry points, validation, what ``kefu plugins`` shows.

Builtin plugins (in ``plugins/``) and third-party ones are found the same way,
through the ``kefu`` entry-point group; ``DISABLED_PLUGINS`` names entry points
not to load. The core's decider defaults are registered as the plugin
``core``. A plugin that cannot be loaded, implements a hook nobody declared
or uses a hookwrapper is left out and reported (a ``StartupFailure``):
``create_app`` then refuses to start, naming it, while ``kefu plugins``
still shows what happened.
"""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from service.hooks import defaults, failures, specs

log = logging.getLogger("kefu.plugins")

ENTRY_POINT_GROUP = "kefu"
CORE = "core"  # the name the core's decider defaults are registered under


@dataclass
class StartupFailure:
    """A plugin that failed while kefu started: where, and the traceback."""

    plugin: str
    stage: str  # "load", "register", "hookspecs", "settings", or the start-up hook's name
    error: str
    traceback: str = ""
    exc: BaseException | None = None

    def describe(self) -> str:
        return f"plugin {self.plugin} failed in {self.stage}: {self.error}"


@dataclass
class PluginInfo:
    """What ``kefu plugins`` and ``GET /api/v1/plugins`` show about one plugin."""

    name: str
    source: str  # "core", "builtin (kefu 0.1.0)" or "<dist> <version>"
    enabled: bool
    module: str | None = None
    hooks: list[str] = field(default_factory=list)
    failures: list[StartupFailure] = field(default_factory=list)


class PluginStartupError(RuntimeError):
    """Plugins failed while kefu started; the message names each with its error."""

    def __init__(self, found: list[StartupFailure]):
        self.failures = found
        lines = ["kefu cannot start: " + ", ".join(sorted({f.plugin for f in found}))
                 + " failed (switch a plugin off with DISABLED_PLUGINS, or fix it; "
                 "`kefu plugins --check` shows the same)."]
        for failure in found:
            lines.append(f"- {failure.describe()}")
            if failure.traceback:
                lines.append("  " + failure.traceback.rstrip().replace("\n", "\n  "))
        super().__init__("\n".join(lines))


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _refuse_wrappers(pm, plugin, name) -> None:
    for caller in pm.get_hookcallers(plugin) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                raise pluggy.PluginValidationError(
                    plugin, f"{name}.{caller.name} is a hookwrapper: kefu calls implementations one by one "
                            "(so that a failure stays its own) and supports no wrappers; write a plain "
                            "implementation")


def _unknown_hooks(pm, plugin) -> list[str]:
    found = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.spec is None:
            mine = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]
            if mine and all(impl.optionalhook for impl in mine):
                continue  # another plugin's hook, marked optional: idle while that plugin is off
            found.append(f"implements {caller.name}, which no spec declares (misspelt, or its plugin is off)")
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                extra = set(impl.argnames) - set(caller.spec.argnames)
                if extra:
                    found.append(f"{caller.name} takes {', '.join(sorted(extra))}, which the spec does not give "
                                 f"(it gives {', '.join(caller.spec.argnames) or 'nothing'})")
    return found


def make_plugin_manager(disabled=(), trace: bool = False, extra=()):
    """Build a pluggy manager with the core defaults and every enabled entry point.

    ``extra``: ``(name, plugin object)`` pairs registered as if found by
    entry point (used by tests). Returns ``(pm, infos, startup_failures)``;
    a plugin that fails to load or validate is unregistered and reported
    rather than raised, so that the caller decides whether to refuse to start.
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(specs)
    pm.register(defaults, name=CORE)
    infos = [PluginInfo(CORE, CORE, True, defaults.__name__)]
    found: list[StartupFailure] = []
    disabled = set(disabled)
    candidates = []
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist
        source = f"{dist.name} {dist.version}" if dist else "unknown"
        if dist and dist.name == "kefu":
            source = f"builtin ({source})"
        candidates.append((ep.name, source, ep.value, ep.load))
    candidates += [(name, "registered by code", getattr(obj, "__name__", type(obj).__name__), lambda o=obj: o)
                   for name, obj in extra]
    for name, source, module, load in candidates:
        if any(info.name == name for info in infos):
            continue
        info = PluginInfo(name, source, name not in disabled, module)
        infos.append(info)
        if not info.enabled:
            pm.set_blocked(name)
            continue
        try:
            plugin = load()
        except Exception as exc:
            info.failures.append(StartupFailure(name, "load", failures.describe(exc), _trace(exc)))
            continue
        try:
            pm.register(plugin, name=name)
            _refuse_wrappers(pm, plugin, name)
        except Exception as exc:
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)
            info.failures.append(StartupFailure(name, "register", failures.describe(exc), ""))
    # Plugins' own specs, before any implementation is checked against them.
    for info in infos[1:]:
        plugin = pm.get_plugin(info.name)
        if plugin is None or not hasattr(plugin, "register_hookspecs"):
            continue
        try:
            spec_module = plugin.register_hookspecs()
            if spec_module is not None:
                pm.add_hookspecs(spec_module)
        except Exception as exc:
            info.failures.append(StartupFailure(info.name, "register_hookspecs", failures.describe(exc), _trace(exc)))
    for info in infos[1:]:
        plugin = pm.get_plugin(info.name)
        problems = _unknown_hooks(pm, plugin) if plugin is not None else []
        if problems:
            pm.unregister(name=info.name)
            info.failures += [StartupFailure(info.name, "register", p) for p in problems]
    for info in infos:
        plugin = pm.get_plugin(info.name)
        if plugin is not None:
            info.hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        found += info.failures
    if trace:
        pm.trace.root.setwriter(lambda msg: log.debug("hook %s", msg.rstrip()))
        pm.enable_tracing()
    return pm, infos, found
