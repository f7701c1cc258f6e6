"""The external credit source: the ``credit_source`` decider (declared in
``hookspecs``), asked with ``sdk.ask`` under a deadline and with a cache, so
that a slow or failing source never holds up a request or a re-rate.

* The hook runs in a daemon thread of its own; the caller waits at most
  ``CREDIT_SOURCE_TIMEOUT`` seconds, then goes on with the internal score.
  The late answer is dropped. Daemon threads, not a pool: a pool's threads
  are joined at exit, so a hung source would keep ``kefu credit rate`` or a
  worker from exiting.
* An answer (also "knows nothing", None) is kept per customer and quarter
  for ``CREDIT_SOURCE_CACHE_SECONDS`` in this process.
* The answer is checked here (``check_answer``): a malformed one counts as
  the answering plugin's failure.
* After a timeout or an error the source is skipped for ``BACKOFF_SECONDS``
  (at most the cache time), so a dead source costs one timeout, not one per
  customer of a quarterly re-rate.
"""
from __future__ import annotations

import threading
import time

from flask import current_app

from service import sdk

from .hookspecs import CustomerSnapshot
from .settings import settings

BACKOFF_SECONDS = 60
_lock = threading.Lock()


def snapshot(customer) -> CustomerSnapshot:
    """A detached copy of ``customer`` for the hook."""
    return CustomerSnapshot(customer.id, customer.external_ref, customer.name, customer.kind, customer.email)


def check_answer(answer) -> None:
    """``ValueError`` saying why unless ``answer`` is a ``CreditSourceAnswer``
    (a dict with a ``score`` from 0 to 100)."""
    if not isinstance(answer, dict):
        raise ValueError("credit_source must answer a dict {'score': 0-100, 'source': str}")
    score = answer.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100:
        raise ValueError(f"credit_source's score must be a number from 0 to 100, not {score!r}")


def _ask(app, customer: CustomerSnapshot, quarter: str):
    # Runs in a thread of its own: an app context of its own, so the hook (and
    # the plugin manager's savepoints) never touch the caller's session.
    with app.app_context():
        answer, plugin, failures = sdk.ask("credit_source", customer=customer, quarter=quarter)
        if answer is None and failures:
            name, exc = failures[0]
            raise RuntimeError(f"{name}: {type(exc).__name__}: {exc}")
        if answer is None:
            return None
        try:
            check_answer(answer)
        except ValueError as exc:
            raise RuntimeError(f"{plugin}: {type(exc).__name__}: {exc}") from None
        return {"score": float(answer["score"]), "source": str(answer.get("source") or plugin)[:80]}


def _state(app) -> dict:
    # Per app, not per module: each app (and test) has its own sources.
    with _lock:
        return app.extensions.setdefault("credit_check_source", {"cache": {}, "down_until": 0.0})


def forget() -> None:
    """Drop this app's cached answers and back-off (after changing the source)."""
    state = _state(current_app)
    with _lock:
        state["cache"].clear()
        state["down_until"] = 0.0


def external_score(customer, quarter: str) -> tuple[dict | None, str | None]:
    """Ask the external source about ``customer`` for ``quarter``.

    Returns ``(answer, note)``: ``answer`` is ``{"score": float, "source":
    str}`` or None; ``note`` says why there is none when the source failed,
    timed out or is backing off (None when it simply knows nothing).
    Never raises and never waits longer than ``CREDIT_SOURCE_TIMEOUT``.
    """
    conf = settings()
    app = current_app._get_current_object()
    state, key = _state(app), (customer.id, quarter)
    now = time.monotonic()
    with _lock:
        hit = state["cache"].get(key)
        if hit is not None and hit[0] > now:
            return hit[1], None
        down = state["down_until"]
    if down > now:
        return None, f"external source skipped for {down - now:.0f} s after a failure"
    outcome, done = {}, threading.Event()
    snap = snapshot(customer)

    def run():
        try:
            outcome["answer"] = _ask(app, snap, quarter)
        except Exception as exc:  # the source's failure is noted, never raised
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"kefu-credit-source-{customer.id}", daemon=True).start()
    if not done.wait(conf.source_timeout):
        note = f"external source timed out after {conf.source_timeout:g} s"
    elif "error" in outcome:
        note = f"external source failed: {outcome['error']}"[:300]
    else:
        answer = outcome["answer"]
        if conf.source_cache_seconds:
            with _lock:
                state["cache"][key] = (time.monotonic() + conf.source_cache_seconds, answer)
        return answer, None
    with _lock:
        state["down_until"] = time.monotonic() + min(BACKOFF_SECONDS, conf.source_cache_seconds)
    return None, note
