"""Names of satisfaction_survey's codes on the core's pages (``code_label``):
the plugin itself, the history events it records and their details, in the
page's language."""
from __future__ import annotations

import re

from .questions import REASONS
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
        return staff["recovery_reasons"].get(code) or answer_reason(code, lang)
    return None


# ``answers._reason_text``: why a bad answer reopened the ticket, kept in
# English in the history (the comment is the customer's own words).
_ANSWER = re.compile(r"^satisfaction survey: (not solved|solved), rating (\d+)/5"
                     r"(?:; reasons: (.*?))?(?:; comment: (.*))?$", re.S)
_ANSWER_WORDS = {
    "zh_CN": {"head": "满意度调查", "not solved": "未解决", "solved": "已解决", "rating": "评分 {n}/5",
              "reasons": "原因：{reasons}", "comment": "留言：{comment}"},
}


def answer_reason(reason: str, lang: str) -> str | None:
    """The reason a survey answer gave for reopening (``answers._reason_text``)
    in ``lang``; None for another text or on an English page."""
    words = _ANSWER_WORDS.get(lang)
    found = _ANSWER.match(reason) if words else None
    if found is None:
        return None
    solved, rating, reasons, comment = found.groups()
    by_label = {r["labels"]["en"]: r["labels"].get(lang, r["labels"]["en"]) for r in REASONS}
    parts = [f"{words['head']}：{words[solved]}，{words['rating'].format(n=rating)}"]
    if reasons:
        parts.append(words["reasons"].format(reasons="、".join(by_label.get(r, r) for r in reasons.split(", "))))
    if comment:
        parts.append(words["comment"].format(comment=comment))
    return "；".join(parts)
