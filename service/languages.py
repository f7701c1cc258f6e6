"""kefu's languages: a language tag mapped to one of ``LANGUAGES``, the
request's Accept-Language, and the language a customer is answered in.

Shared by the pages (``service.web.i18n``) and the API (``service.api.public``).
"""
from __future__ import annotations

from flask import current_app, has_request_context, request

from service.domain.language import written_language

# Tags (browsers', mail clients', API clients') that map to a catalog of ours.
_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh_hans": "zh_CN", "zh-hans": "zh_CN",
            "en": "en"}
# What Accept-Language is matched against; Traditional Chinese readers get
# the Chinese catalog rather than English.
_ACCEPTED = ["en", "zh_CN", "zh", "zh_TW", "zh_HK"]


def normalise(language: str | None) -> str | None:
    """One of ``LANGUAGES`` for a tag such as ``zh-CN`` or ``en_GB``, else None."""
    if not language:
        return None
    tag = language.replace("-", "_")
    languages = current_app.config["LANGUAGES"]
    if tag in languages:
        return tag
    return _ALIASES.get(tag.lower()) or _ALIASES.get(tag.split("_")[0].lower())


def accepted_language() -> str | None:
    """The request's Accept-Language, as one of ``LANGUAGES``; None outside a
    request, without the header, or when it names none of ours."""
    if not has_request_context():
        return None
    return normalise(request.accept_languages.best_match(_ACCEPTED))


def customer_language(chosen: str | None, *texts: str | None) -> str:
    """The language to answer a customer in: the one they ``chosen`` (a form's
    page language, an API ``language`` field), else the request's
    Accept-Language, else the script of what they wrote (``texts``: their
    name, subject, message), else ``DEFAULT_LANGUAGE``."""
    return (normalise(chosen) or accepted_language() or written_language(*texts)
            or current_app.config["DEFAULT_LANGUAGE"])
