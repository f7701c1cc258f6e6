"""Translating texts in the language in force (a page's, a mail's, a job's).

The same contract as Flask-Babel's ``gettext`` family (the one catalog of
the app, ``%(name)s`` variables filled in when given), through
``translations``: Flask-Babel finds its per-request state through ``g``
four or five times for each text it translates, about 6 us a text, and a
console page with its plugins' sections translates a few hundred. Core code
and plugins (``service.sdk`` re-exports these) translate through here.
"""
from __future__ import annotations

from flask import g
from flask_babel import get_translations
from flask_babel.speaklater import LazyString


def translations():
    """``flask_babel.get_translations()``, remembered for the locale in force.

    The catalog is kept beside Flask-Babel's own state with the locale
    object it was found for, so a ``force_locale`` block (mail in the
    customer's language) or a ``refresh`` (a new request, a changed
    setting) finds its own. Outside a request or app context, and before
    the locale is known, it is Flask-Babel's answer as is.
    """
    try:
        state = g._flask_babel
        locale = state.babel_locale
    except (AttributeError, RuntimeError):
        return get_translations()
    if locale is None:
        return get_translations()
    kept = state.__dict__.get("kefu_translations")
    if kept is not None and kept[0] is locale:
        return kept[1]
    found = get_translations()
    state.kefu_translations = (locale, found)
    return found


def gettext(string: str, **variables) -> str:
    """``string`` translated; ``%(name)s`` filled from ``variables`` when given."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def pgettext(context: str, string: str, **variables) -> str:
    """``gettext`` of ``string`` in ``context`` (a word with two meanings)."""
    text = translations().upgettext(context, string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """The form for ``num`` of ``singular``/``plural``; ``%(num)s`` is ``num``."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """``gettext`` deferred to when the text is shown (for module-level labels)."""
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyString:
    """``pgettext`` deferred to when the text is shown."""
    return LazyString(pgettext, context, string, **variables)
