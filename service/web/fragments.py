"""Rendered fragments kept per process, keyed by everything they show.

Every console page draws the same frame (the sidebar's queues, counts,
saved views and plugin links; the keyboard help), and drawing it costs
about as much as a small page's own content. Its inputs are few and change
rarely, so the frame is rendered once per distinct input and kept.

The key is the template, the page's language and the whole context the
fragment is drawn from (frozen into tuples): what the fragment shows cannot
change without its key changing, so nothing is ever stale and nothing has
to be invalidated. The contract for a fragment's template is therefore that
it reads only its context and pure helpers (``_``, ``url_for``, ``label``):
no ``request``, no ``console_staff()``, no queries.

The store is a small LRU per app (``FRAGMENT_CACHE_SIZE`` entries; 0
turns it off), so memory stays bounded however many staff members,
languages and pages there are.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from markupsafe import Markup


class FragmentCache:
    """A bounded least-recently-used map of fragment keys to rendered HTML (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The HTML kept for ``key`` (now the most recently used), else None."""
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def put(self, key, html: Markup) -> None:
        """Keep ``html`` for ``key``, forgetting the least recently used beyond the size."""
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def freeze(value):
    """``value`` as a hashable key part: dicts as sorted item tuples, lists as
    tuples, lazy and other strings as their text in the current language."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, LazyString):
        return str(value)  # its text in this request's language
    # Anything else (an ORM row, a date) could draw differently under an equal text: not a key.
    raise TypeError(f"a fragment's context holds only dicts, lists, strings, numbers and None, not {type(value)!r}")


def render_fragment(template: str, **context) -> Markup:
    """``template`` rendered with ``context``, once per distinct (template,
    language, context) in this process; the kept HTML afterwards.

    ``context`` must hold everything the template shows (see the module's
    contract); its values are dicts, lists, strings, numbers, booleans,
    None or lazy strings.
    """
    cache: FragmentCache | None = current_app.extensions.get("kefu_fragments")
    if cache is None:
        return Markup(render_template(template, **context))
    key = (template, str(get_locale()), freeze(context))
    html = cache.get(key)
    if html is None:
        html = Markup(render_template(template, **context))
        cache.put(key, html)
    return html


def init_app(app) -> None:
    """Give ``app`` its fragment store (``FRAGMENT_CACHE_SIZE``; 0: render every time)."""
    size = int(app.config["FRAGMENT_CACHE_SIZE"])
    if size > 0:
        app.extensions["kefu_fragments"] = FragmentCache(size)
