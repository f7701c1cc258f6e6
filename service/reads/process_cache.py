"""Per-process caches of small, rarely changing rows (staff behind a token,
categories by code), handed to each request as copies attached to its session
without a query.

Entries expire after a number of seconds; ``forget`` drops a cache at once
in this process (other processes catch up when their entries expire).
"""
from __future__ import annotations

import time

from flask import current_app
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from service.extensions import db

MAX_ENTRIES = 10_000  # bounded: past it the cache starts over rather than grow


def _cache(name: str) -> dict:
    return current_app.extensions.setdefault("kefu_snapshots", {}).setdefault(name, {})


def get(name: str, key, model):
    """A session-attached copy of the row cached under ``key``, or None (missing or expired)."""
    hit = _cache(name).get(key)
    if hit is None or hit[0] <= time.monotonic():
        return None
    values = hit[1]
    # The row may already be in this session (loaded by an earlier query).
    existing = db.session.identity_map.get(identity_key(model, (values["id"],)))
    if existing is not None:
        return existing
    copy = model(**values)
    make_transient_to_detached(copy)
    db.session.add(copy)  # attaches the detached copy: no query, unlike merge()
    return copy


def put(name: str, key, row, columns: tuple[str, ...], seconds: float) -> None:
    """Remember ``row``'s ``columns`` (which must include ``id``, the primary
    key) under ``key`` for ``seconds`` (0: do not cache)."""
    if not seconds:
        return
    cache = _cache(name)
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = (time.monotonic() + seconds, {c: getattr(row, c) for c in columns})


def forget(name: str) -> None:
    """Drop every entry of cache ``name`` in this process."""
    _cache(name).clear()
