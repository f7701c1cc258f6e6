"""A customer's health as staff read it: score, level, each signal with its
value, threshold, points and explanation in the reader's language, and the
history of level changes."""
from __future__ import annotations

from sqlalchemy import select

from service import sdk

from . import catalog
from .models import CustomerHealth, HealthChange, HealthRun
from .texts import SIGNAL_TEXTS, level_label

HISTORY_LIMIT = 50


def _number(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(float(value), 2)


def explain(signal, value) -> tuple[str, str]:
    """``(label, explanation)`` of ``signal`` for ``value``, in the current language."""
    params = {"value": "-" if value is None else _number(value), "threshold": _number(signal.threshold),
              "window": signal.window_days if signal.window_days is not None else "-"}
    if signal.measure is not None:
        label, text = SIGNAL_TEXTS[signal.label]
        label, text = str(label), str(text)
    else:
        label, text = signal.label, signal.explanation
    try:
        return label, text % params
    except (KeyError, ValueError, TypeError):  # an integrator's text with other placeholders
        return label, text


def signal_rows(signals, values: dict, points: dict) -> list[dict]:
    """One row per signal in force: what the last recompute measured."""
    rows = []
    for s in signals:
        value = values.get(s.name)
        label, explanation = explain(s, value)
        rows.append({"name": s.name, "label": label, "value": _number(value), "comparison": s.comparison,
                     "threshold": _number(s.threshold), "points": int(points.get(s.name) or 0),
                     "max_points": s.points, "window_days": s.window_days, "explanation": explanation,
                     "source": s.plugin or "relationship_health"})
    return rows


def detail(customer_id: int) -> dict:
    """The customer's health (404 when there is no such customer). Before
    the first recompute that saw them: score and level None, no values."""
    sdk.get_customer(customer_id)
    row = sdk.db.session.get(CustomerHealth, customer_id)
    history = sdk.db.session.scalars(select(HealthChange).where(HealthChange.customer_id == customer_id)
                                     .order_by(HealthChange.id.desc()).limit(HISTORY_LIMIT)).all()
    signals = catalog.in_force()
    values, points = (row.signal_values or {}, row.signal_points or {}) if row is not None else ({}, {})
    by_name = {s.name: s for s in signals}
    return {
        "customer_id": customer_id,
        "score": row.score if row is not None else None,
        "level": row.level if row is not None else None,
        "level_label": level_label(row.level) if row is not None else None,
        "computed_at": row.computed_at if row is not None else None,
        "checked_at": sdk.db.session.scalar(select(HealthRun.started_at).order_by(HealthRun.id.desc()).limit(1))
        if row is not None else None,
        "signals": signal_rows(signals, values, points),
        "history": [{"id": h.id, "at": h.at, "from_level": h.from_level, "to_level": h.to_level,
                     "to_level_label": level_label(h.to_level), "score": h.score,
                     "signals": [{"name": name, "label": explain(by_name[name], (h.signal_values or {}).get(name))[0]
                                  if name in by_name else name, "value": _number((h.signal_values or {}).get(name)),
                                  "points": int(p)} for name, p in (h.signal_points or {}).items() if p]}
                    for h in history],
    }
