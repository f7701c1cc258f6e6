"""Names of satisfaction_survey's codes on the core's pages (``code_label``):
the plugin itself, the history events it records and their details, in the
page's language."""
from __future__ import annotations

from .texts import STAFF_TEXTS, staff_language

_NAMES = {
    "en": {"plugin": "Satisfaction surveys",
           "action": {"survey_answered": "Survey answered", "recovery_marked": "Marked for recovery",
                      "recovery_followup": "Recovery follow-up opened"},
           "field": {"survey": "Survey"}},
    "zh_CN": {"plugin": "满意度调查",
              "action": {"survey_answered": "问卷已回答", "recovery_marked": "标记为需要挽回",
                         "recovery_followup": "已新建挽回跟进工单"},
              "field": {"survey": "问卷"}},
}


def label(group: str, code: str) -> str | None:
    """The ``code_label`` answer: None for codes that are not this plugin's."""
    lang = staff_language()
    names, staff = _NAMES[lang], STAFF_TEXTS[lang]
    if group == "plugin":
        return names["plugin"] if code == "satisfaction_survey" else None
    if group == "action":
        return names["action"].get(code)
    if group == "field":
        return names["field"].get(code) or ({"solved": staff["solved"], "rating": staff["rating"],
                                             "outcome": staff["outcome"]}.get(code))
    if group == "outcome":
        return staff["outcomes"].get(code)
    if group == "reason":
        return staff["recovery_reasons"].get(code)
    return None
