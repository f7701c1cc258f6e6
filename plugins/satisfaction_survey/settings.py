"""satisfaction_survey's settings: defaults here (also listed, with comments,
in config/default.py), overridden like any kefu setting (``KEFU_SURVEY_DELAY=600``).

``survey_settings()`` validates them; the plugin calls it when the app is
built, so a bad value stops kefu at start with a ``ValueError`` naming the key.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

DEFAULTS = {
    "SURVEY_DELAY": 3600,            # seconds from the resolution to the survey's delivery
    "SURVEY_TOKEN_DAYS": 28,         # a survey link works this many days after delivery
    "SURVEY_REMINDER_DAYS": 3,       # one reminder this many days after delivery if unanswered (0: none)
    "SURVEY_ASK_EFFORT": False,      # ask customer effort (CES, 1-7)
    "SURVEY_ASK_NPS": False,         # ask likelihood to recommend (NPS, 0-10)
    "SURVEY_EXTRA_QUESTIONS": [],    # more questions as data (see questions.check_extra_questions)
    "SURVEY_CLASS_RULES": None,      # satisfaction class rules as data; None: classes.DEFAULT_RULES
    "SURVEY_CLASS_WINDOW_DAYS": 365,  # answers and complaints counted for a customer's class
}


@dataclass(frozen=True)
class SurveySettings:
    """The validated settings."""

    delay: int
    token_days: int
    reminder_days: int
    ask_effort: bool
    ask_nps: bool
    extra_questions: tuple
    class_rules: tuple
    class_window_days: int


def _get(config, key):
    value = config.get(key)
    return DEFAULTS[key] if value is None else value


def _whole(config, key, low, high) -> int:
    value = _get(config, key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _flag(config, key) -> bool:
    value = _get(config, key)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def survey_settings(config=None) -> SurveySettings:
    """The survey settings from ``config`` (default: the current app's), with
    ``DEFAULTS`` for missing keys. Raises ``ValueError`` naming a bad key."""
    from .classes import DEFAULT_RULES, check_rules
    from .questions import check_extra_questions

    config = current_app.config if config is None else config
    rules = _get(config, "SURVEY_CLASS_RULES")
    return SurveySettings(
        delay=_whole(config, "SURVEY_DELAY", 0, 90 * 86400),
        token_days=_whole(config, "SURVEY_TOKEN_DAYS", 1, 3650),
        reminder_days=_whole(config, "SURVEY_REMINDER_DAYS", 0, 3650),
        ask_effort=_flag(config, "SURVEY_ASK_EFFORT"),
        ask_nps=_flag(config, "SURVEY_ASK_NPS"),
        extra_questions=check_extra_questions(_get(config, "SURVEY_EXTRA_QUESTIONS")),
        class_rules=check_rules(DEFAULT_RULES if rules is None else rules),
        class_window_days=_whole(config, "SURVEY_CLASS_WINDOW_DAYS", 1, 36600),
    )
