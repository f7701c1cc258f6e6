"""satisfaction_survey's settings, declared (``register_settings``) with their
defaults and checked when kefu starts: a bad value stops kefu, naming the
plugin and the key. Set them like any kefu setting (a ``KEFU_SETTINGS``
file, ``KEFU_SURVEY_DELAY=600``, a test's overrides); a key set to null
takes its default.

``survey_settings()`` gives them, loaded, as a ``SurveySettings``.
"""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, post_load, pre_load

from service import sdk

PLUGIN = "satisfaction_survey"


@dataclass(frozen=True)
class SurveySettings:
    """The loaded settings."""

    delay: int
    token_days: int
    reminder_days: int
    ask_effort: bool
    ask_nps: bool
    extra_questions: tuple
    class_rules: tuple
    class_window_days: int


class _Whole(fields.Field):
    """A whole number (a JSON integer, not a bool or a text) from ``low`` to ``high``."""

    def __init__(self, key: str, low: int, high: int, **kwargs):
        super().__init__(**kwargs)
        self.key, self.low, self.high = key, low, high

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise ValidationError(f"{self.key} must be a whole number from {self.low} to {self.high}, not {value!r}")
        return value


class _Flag(fields.Field):
    """True or false (not ``"yes"``, not 1)."""

    def __init__(self, key: str, **kwargs):
        super().__init__(**kwargs)
        self.key = key

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError(f"{self.key} must be true or false, not {value!r}")
        return value


class _Checked(fields.Field):
    """A value checked by ``check`` (which raises ``ValueError`` saying what is wrong)."""

    def __init__(self, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return self.check(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _extra_questions(value):
    from .questions import check_extra_questions

    return check_extra_questions(value)


def _class_rules(value):
    from .classes import check_rules

    return check_rules(value)


class SurveySettingsSchema(Schema):
    # Seconds from a ticket's resolution to the delivery of its survey (mail and tracking page).
    SURVEY_DELAY = _Whole("SURVEY_DELAY", 0, 90 * 86400, load_default=3600)
    # A survey link works this many days after delivery (then: "expired").
    SURVEY_TOKEN_DAYS = _Whole("SURVEY_TOKEN_DAYS", 1, 3650, load_default=28)
    # One reminder this many days after delivery when still unanswered (0: none).
    SURVEY_REMINDER_DAYS = _Whole("SURVEY_REMINDER_DAYS", 0, 3650, load_default=3)
    # Optional questions: customer effort (CES, 1-7) and likelihood to recommend (NPS, 0-10).
    SURVEY_ASK_EFFORT = _Flag("SURVEY_ASK_EFFORT", load_default=False)
    SURVEY_ASK_NPS = _Flag("SURVEY_ASK_NPS", load_default=False)
    # More questions as data: [{"key": "delivery", "type": "scale"|"choice"|"text",
    # "labels": {"en": "...", "zh_CN": "..."}, "min": 1, "max": 5 | "options":
    # [{"code": "...", "labels": {...}}], "required": false}]; answered under "extra"
    # (see questions.check_extra_questions).
    SURVEY_EXTRA_QUESTIONS = _Checked(_extra_questions, load_default=list)
    # Satisfaction class rules as data, first match wins (None: classes.DEFAULT_RULES) ...
    SURVEY_CLASS_RULES = _Checked(_class_rules, load_default=None)
    # ... and the days of answers and complaints they look at.
    SURVEY_CLASS_WINDOW_DAYS = _Whole("SURVEY_CLASS_WINDOW_DAYS", 1, 36600, load_default=365)

    @pre_load
    def _null_is_the_default(self, data, **kwargs):
        return {key: value for key, value in data.items() if value is not None}

    @post_load
    def _settings(self, data, **kwargs) -> SurveySettings:
        from .classes import DEFAULT_RULES, check_rules

        rules = data["SURVEY_CLASS_RULES"]
        return SurveySettings(
            delay=data["SURVEY_DELAY"], token_days=data["SURVEY_TOKEN_DAYS"],
            reminder_days=data["SURVEY_REMINDER_DAYS"], ask_effort=data["SURVEY_ASK_EFFORT"],
            ask_nps=data["SURVEY_ASK_NPS"], extra_questions=tuple(data["SURVEY_EXTRA_QUESTIONS"]),
            class_rules=check_rules(DEFAULT_RULES) if rules is None else rules,
            class_window_days=data["SURVEY_CLASS_WINDOW_DAYS"])


def survey_settings() -> SurveySettings:
    """The current app's survey settings (checked at start; reloaded when one changes)."""
    return sdk.plugin_settings(PLUGIN)
