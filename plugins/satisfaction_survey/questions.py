"""The survey's questions, as data, with labels per language.

``CORE_QUESTIONS`` are always known; ``effort`` and ``nps`` are asked only
when switched on (``SURVEY_ASK_EFFORT``, ``SURVEY_ASK_NPS``); ``reasons`` only
when the rating is 2 or less. Operators and other plugins add their own
questions with ``SURVEY_EXTRA_QUESTIONS`` (same shape, answered under
``extra`` in the POST body). ``localized`` gives the set in one language for
the API and the page; ``check_answer`` checks an answer against it.
"""
from __future__ import annotations

import re

from service import sdk

LANGUAGES = ("en", "zh_CN")

# Why a customer is unhappy (DOMAIN.md, 002's typical complaint causes).
REASONS = [
    {"code": "slow", "labels": {"en": "It took too long", "zh_CN": "处理太慢"}},
    {"code": "unreachable", "labels": {"en": "Hard to reach anyone", "zh_CN": "很难联系到人"}},
    {"code": "not_explained", "labels": {"en": "The result was not explained", "zh_CN": "没有解释清楚处理结果"}},
    {"code": "unfriendly", "labels": {"en": "Staff were unfriendly", "zh_CN": "服务态度不好"}},
    {"code": "extra_cost", "labels": {"en": "I was charged extra", "zh_CN": "额外收费"}},
    {"code": "product", "labels": {"en": "The product itself is the problem", "zh_CN": "产品本身有问题"}},
    {"code": "other", "labels": {"en": "Something else", "zh_CN": "其他原因"}},
]
REASON_CODES = tuple(r["code"] for r in REASONS)

# Answers at or below this rating are "low": reasons are asked, and the loop closes.
LOW_RATING = 2

CORE_QUESTIONS = [
    {"key": "solved", "type": "yes_no", "required": True,
     "labels": {"en": "Is your problem solved?", "zh_CN": "您的问题解决了吗？"}},
    {"key": "rating", "type": "scale", "min": 1, "max": 5, "required": True,
     "labels": {"en": "How satisfied are you with our service?", "zh_CN": "您对我们的服务满意吗？"},
     "ends": {"en": ["Very dissatisfied", "Very satisfied"], "zh_CN": ["非常不满意", "非常满意"]}},
    {"key": "effort", "type": "scale", "min": 1, "max": 7, "required": False, "setting": "ask_effort",
     "labels": {"en": "How easy was it to get your problem handled?", "zh_CN": "解决这个问题对您来说容易吗？"},
     "ends": {"en": ["Very difficult", "Very easy"], "zh_CN": ["非常困难", "非常容易"]}},
    {"key": "nps", "type": "scale", "min": 0, "max": 10, "required": False, "setting": "ask_nps",
     "labels": {"en": "How likely are you to recommend us to a friend?", "zh_CN": "您向朋友推荐我们的可能性有多大？"},
     "ends": {"en": ["Not at all likely", "Extremely likely"], "zh_CN": ["完全不可能", "非常可能"]}},
    {"key": "reasons", "type": "choices", "required": False, "when_rating_at_most": LOW_RATING,
     "options": REASONS,
     "labels": {"en": "What went wrong? (if your rating is 2 or less)", "zh_CN": "哪里做得不好？（评分为 2 分或以下时）"}},
    {"key": "comment", "type": "text", "required": False, "max_length": 2000,
     "labels": {"en": "Anything else you want to tell us?", "zh_CN": "还有什么想告诉我们的吗？"}},
]

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TYPES = ("scale", "choice", "text")


def _labels(value, where: str) -> dict:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) or not value[lang].strip()
                                          for lang in LANGUAGES):
        raise ValueError(f"{where}: labels must give a text for each of {', '.join(LANGUAGES)}")
    return value


def check_extra_questions(questions) -> tuple:
    """Validate ``SURVEY_EXTRA_QUESTIONS``; return them as a tuple.

    Each question is ``{"key": str, "type": "scale"|"choice"|"text",
    "labels": {"en": str, "zh_CN": str}, "required": bool}`` plus ``min`` and
    ``max`` (integers) for a scale, ``options`` (``[{"code", "labels"}]``) for
    a choice. Raises ``ValueError`` naming the question and what is wrong.
    """
    if not isinstance(questions, (list, tuple)):
        raise ValueError("SURVEY_EXTRA_QUESTIONS must be a list of questions")
    seen = {q["key"] for q in CORE_QUESTIONS}
    for i, q in enumerate(questions):
        where = f"SURVEY_EXTRA_QUESTIONS[{i}]"
        if not isinstance(q, dict) or not isinstance(q.get("key"), str) or not _KEY.fullmatch(q["key"]):
            raise ValueError(f"{where}: key must be 1-40 of a-z, 0-9, _ starting with a letter")
        if q["key"] in seen:
            raise ValueError(f"{where}: key {q['key']!r} is used twice")
        seen.add(q["key"])
        if q.get("type") not in TYPES:
            raise ValueError(f"{where}: type must be one of {', '.join(TYPES)}")
        _labels(q.get("labels"), where)
        if not isinstance(q.get("required", False), bool):
            raise ValueError(f"{where}: required must be true or false")
        if q["type"] == "scale":
            low, high = q.get("min"), q.get("max")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or not low < high:
                raise ValueError(f"{where}: a scale needs whole numbers min < max")
        if q["type"] == "choice":
            options = q.get("options")
            if not isinstance(options, list) or not options:
                raise ValueError(f"{where}: a choice needs options")
            for opt in options:
                if not isinstance(opt, dict) or not isinstance(opt.get("code"), str) or not opt["code"]:
                    raise ValueError(f"{where}: each option needs a code")
                _labels(opt.get("labels"), f"{where} option {opt.get('code')!r}")
    return tuple(questions)


def asked(settings) -> list[dict]:
    """The questions asked under ``settings`` (core ones switched on, then the extra ones)."""
    core = [q for q in CORE_QUESTIONS if not q.get("setting") or getattr(settings, q["setting"])]
    return core + [{**q, "extra": True} for q in settings.extra_questions]


def language_of(language: str | None) -> str:
    """The survey language for a customer's language tag (zh, zh_CN, zh-TW ... -> zh_CN)."""
    return "zh_CN" if (language or "").lower().startswith("zh") else "en"


def localized(settings, language: str) -> list[dict]:
    """The asked questions in ``language``: key, type, label, required, and per
    type min/max (with the ends' labels), options (code, label), max_length,
    ``when_rating_at_most`` and ``extra`` (answered under ``extra``)."""
    lang = language_of(language)
    out = []
    for q in asked(settings):
        item = {"key": q["key"], "type": q["type"], "label": q["labels"][lang],
                "required": bool(q.get("required")), "extra": bool(q.get("extra"))}
        if q["type"] == "scale":
            item.update(min=q["min"], max=q["max"])
            if q.get("ends"):
                item.update(min_label=q["ends"][lang][0], max_label=q["ends"][lang][1])
        if q.get("options"):
            item["options"] = [{"code": o["code"], "label": o["labels"][lang]} for o in q["options"]]
        if q.get("max_length"):
            item["max_length"] = q["max_length"]
        if q.get("when_rating_at_most") is not None:
            item["when_rating_at_most"] = q["when_rating_at_most"]
        out.append(item)
    return out


def check_answer(data: dict, settings) -> dict:
    """Check an answer loaded by ``SurveyAnswerIn`` against the asked questions.

    Returns the answer with ``extra`` cleaned. Raises ``ValidationFailed``
    (422) naming each field: effort or NPS when not asked, reasons with a
    rating above 2, an unknown, missing or out-of-range extra answer.
    """
    errors: dict[str, list[str]] = {}
    if data.get("effort") is not None and not settings.ask_effort:
        errors["effort"] = ["not asked in this survey"]
    if data.get("nps") is not None and not settings.ask_nps:
        errors["nps"] = ["not asked in this survey"]
    if data.get("reasons") and data["rating"] > LOW_RATING:
        errors["reasons"] = [f"only asked when the rating is {LOW_RATING} or less"]
    extra_in = data.get("extra") or {}
    extra = {}
    known = {q["key"]: q for q in settings.extra_questions}
    for key in extra_in:
        if key not in known:
            errors[f"extra.{key}"] = ["not a question of this survey"]
    for key, q in known.items():
        value = extra_in.get(key)
        field = f"extra.{key}"
        if value is None or value == "":
            if q.get("required"):
                errors[field] = ["required"]
            continue
        if q["type"] == "scale":
            if isinstance(value, bool) or not isinstance(value, int) or not q["min"] <= value <= q["max"]:
                errors[field] = [f"must be a whole number from {q['min']} to {q['max']}"]
                continue
        elif q["type"] == "choice":
            codes = [o["code"] for o in q["options"]]
            if value not in codes:
                errors[field] = [f"must be one of: {', '.join(codes)}"]
                continue
        elif not isinstance(value, str) or len(value) > 2000:
            errors[field] = ["must be text of at most 2000 characters"]
            continue
        extra[key] = value
    if errors:
        raise sdk.ValidationFailed("invalid survey answer: " + ", ".join(sorted(errors)), errors)
    return {**data, "extra": extra}
