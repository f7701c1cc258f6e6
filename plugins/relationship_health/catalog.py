"""The signals in force: the builtin ones (settings, ``signals.json``) and
those integrators add through ``health_signals``, with each one's window.

Asked by every recompute and health read (the hook's answers may change
while kefu runs); a hook signal that does not check out is left out and
logged, never fatal.
"""
from __future__ import annotations

import logging
from dataclasses import replace

from flask import current_app

from service import sdk

from . import signals as sg
from .settings import settings

log = logging.getLogger("kefu.relationship_health")
MAX_SIGNALS = 40  # json_object/json_build_object take at most 100 arguments on PostgreSQL


def other_settings(plugin: str):
    """Another plugin's settings, or None when it is switched off (its
    signals then have no value and score nothing)."""
    try:
        return sdk.plugin_settings(plugin)
    except KeyError:
        return None


def window_of(signal: sg.Signal) -> int | None:
    """The days a signal looks back over (None: it takes no window)."""
    if signal.window_days is not None:
        return signal.window_days
    if signal.measure in sg.NO_WINDOW:
        return None
    if signal.measure == "complaints":
        return int(current_app.config["COMPLAINT_TREND_DAYS"])  # the core's complaint trend
    if signal.measure == "unhappy":
        survey = other_settings("satisfaction_survey")
        return survey.class_window_days if survey is not None else None
    return settings().window_days


def _check_hook_item(item) -> None:
    sg.check_signal(item, "health_signals", builtin=False)


def in_force() -> tuple[sg.Signal, ...]:
    """Every signal that counts now: the builtin ones in file order, then the
    hook's, each with its window filled in (``window_days``)."""
    builtin = list(settings().signals)
    names = {s.name for s in builtin}
    added = []
    items, failed = sdk.collect("health_signals", check_item=_check_hook_item)
    for plugin in failed:
        log.warning("relationship_health: a health_signals answer of plugin %s was left out", plugin)
    for plugin, item in items:
        signal = replace(sg.check_signal(item, "health_signals", builtin=False), plugin=plugin)
        if signal.name in names:
            log.warning("relationship_health: plugin %s's signal %r was left out: the name is taken",
                        plugin, signal.name)
            continue
        names.add(signal.name)
        added.append(signal)
    found = builtin + added
    if len(found) > MAX_SIGNALS:
        log.warning("relationship_health: %d signals, only the first %d count", len(found), MAX_SIGNALS)
        found = found[:MAX_SIGNALS]
    return tuple(replace(s, window_days=window_of(s) if s.measure is not None else
                         (s.window_days or settings().window_days)) for s in found)
