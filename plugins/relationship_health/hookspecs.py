"""The hook relationship_health declares: ``health_signals``, through which
integrators add signals to the health score.

Declared by the plugin (``register_hookspecs``); with relationship_health
switched off nobody asks it, and a plugin that implements it without
``optionalhook=True`` fails to start ("unknown hook").
"""
from __future__ import annotations

from typing import NotRequired, TypedDict

from service import sdk


class HealthSignal(TypedDict):
    """A signal an integrator adds (see ``health_signals``)."""

    name: str
    query: str
    comparison: str
    threshold: float
    points: int
    label: str
    explanation: str
    window_days: NotRequired[int | None]


@sdk.collector
def health_signals() -> HealthSignal | list[HealthSignal] | None:
    """Add signals to every customer's health score.

    Asked by each recompute and each health read; every plugin's answers are
    added to the builtin signals (``signals.json``). So that the recompute
    stays set-based, a signal is not a function of one customer but a SQL
    query over a range of customers, run once per range of customer ids of the recompute:

    * ``query``: SQL (SQLite and PostgreSQL) selecting ``customer_id`` and a
      numeric ``value``, at most one row per customer, for the customers with
      ids from ``:lo`` to ``:hi`` (inclusive). It may use ``:now`` (the
      recompute's time, naive UTC) and ``:since`` (``now`` minus the
      signal's ``window_days``, default ``HEALTH_WINDOW_DAYS``). A customer
      without a row has no value and scores nothing. Read-only.
    * ``comparison`` (``>=`` or ``>``), ``threshold`` (a number) and
      ``points`` (0 to 100): the points are added when ``value comparison
      threshold``. The value must grow with risk, so that more of what it
      counts never lowers the score.
    * ``name`` (snake_case, unique among all signals), ``label`` and
      ``explanation`` (shown to staff as given: answer them in
      ``sdk.current_language()``; the explanation may use ``%(value)s``,
      ``%(threshold)s`` and ``%(window)s``).

    :return: a ``HealthSignal`` dict, a list of them, or None. A signal that
        does not check out (a missing field, a name taken, a query that
        fails) is left out of the score and logged, naming the plugin and the
        field; the other signals still count.
    """
