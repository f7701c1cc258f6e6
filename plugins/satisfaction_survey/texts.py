"""The survey page's texts in English and Chinese (data; the questions' own
labels are in ``questions.py``), and the labels of the staff panel.
``text(lang)`` picks a language; ``staff_text()`` the staff page's."""
from __future__ import annotations

from flask_babel import get_locale

TEXTS = {
    "en": {
        "html_lang": "en",
        "title": "How did we do?",
        "intro": "Ticket {number}: {subject}",
        "why": "Your answer goes to the team that handled your ticket. If it is not solved, we take it up again.",
        "yes": "Yes", "no": "No",
        "optional": "(optional)",
        "submit": "Send my answer",
        "expires": "This link works until {date}.",
        "invalid": "Please check the marked answers.",
        "thanks_title": "Thank you for your answer",
        "outcome_reopened": "We are sorry it is not solved yet. Your ticket {number} is open again and its "
                            "department's supervisor has been told.",
        "outcome_followup": "We are sorry it is not solved yet. We opened a new ticket, {followup}, to take it up "
                            "again, and the supervisor has been told.",
        "outcome_closed": "We are glad it is solved. Your ticket {number} is now closed.",
        "outcome_none": "We have recorded your answer.",
        "outcome_recovery": "We are sorry about your experience. The supervisor responsible has been told and will "
                            "follow it up.",
        "followup_link": "Follow the new ticket",
        "error_title": "This survey cannot be answered",
        "error_not_found": "This link is not valid. Please use the link from our e-mail or your ticket's page.",
        "error_answered": "This survey has already been answered. Each link can be used once. Thank you!",
        "error_expired": "This survey link has expired.",
        "error_withdrawn": "This survey is closed because your ticket was taken up again. You will get a new "
                           "survey when it is resolved.",
        "error_conflict": "Your ticket changed just now. Please open the link again.",
        "panel_title": "How did we do?",
        "panel_text": "Please tell us whether your problem is solved and how satisfied you are. It takes a minute.",
        "panel_link": "Answer the survey",
    },
    "zh_CN": {
        "html_lang": "zh-CN",
        "title": "请评价我们的服务",
        "intro": "工单 {number}：{subject}",
        "why": "您的回答会转给处理您工单的团队。如果问题没有解决，我们会重新处理。",
        "yes": "是", "no": "否",
        "optional": "（可选）",
        "submit": "提交",
        "expires": "此链接在 {date} 之前有效。",
        "invalid": "请检查标出的回答。",
        "thanks_title": "感谢您的回答",
        "outcome_reopened": "很抱歉问题还没有解决。您的工单 {number} 已重新打开，并已通知负责部门的主管。",
        "outcome_followup": "很抱歉问题还没有解决。我们已新建工单 {followup} 重新处理，并已通知主管。",
        "outcome_closed": "很高兴问题已经解决。您的工单 {number} 现已关闭。",
        "outcome_none": "我们已记录您的回答。",
        "outcome_recovery": "很抱歉给您带来不好的体验。我们已通知负责的主管跟进。",
        "followup_link": "查看新工单",
        "error_title": "无法填写此问卷",
        "error_not_found": "此链接无效。请使用我们邮件中或工单页面上的链接。",
        "error_answered": "此问卷已经填写过了，每个链接只能使用一次。谢谢！",
        "error_expired": "此问卷链接已过期。",
        "error_withdrawn": "您的工单已重新处理，此问卷已关闭。处理完成后您会收到新的问卷。",
        "error_conflict": "您的工单刚刚有了变化，请重新打开链接。",
        "panel_title": "请评价我们的服务",
        "panel_text": "请告诉我们问题是否已经解决，以及您对服务是否满意。只需一分钟。",
        "panel_link": "填写问卷",
    },
}


def text(lang: str | None) -> dict:
    """The texts in ``lang`` (``en`` or ``zh_CN``; anything else gets English)."""
    return TEXTS.get(lang or "en", TEXTS["en"])


# The agent's panel on a ticket (``panels.staff_panel``), in the page's language.
STAFF_TEXTS = {
    "en": {
        "title": "Satisfaction survey",
        "survey": "Survey of resolution {n}",
        "solved": "Solved", "rating": "Rating", "reasons": "What went wrong", "comment": "Comment",
        "outcome": "Outcome", "sent_at": "Sent", "answered_at": "Answered",
        "recovery": "Recovery", "recovery_reason": "Why", "recovery_since": "Marked",
        "recovery_followup": "Follow-up ticket", "recovered_at": "Ended",
        "yes": "Yes", "no": "No",
        "status": {"scheduled": "Scheduled", "sent": "Sent, waiting for an answer", "answered": "Answered",
                   "withdrawn": "Withdrawn (reopened)"},
        "outcomes": {"reopened": "Reopened", "followup": "Follow-up opened", "closed": "Closed",
                     "none": "No change"},
        "recovery_state": {"open": "Open", "done": "Ended"},
        "recovery_reasons": {"not_solved": "Not solved", "low_rating": "Low rating"},
    },
    "zh_CN": {
        "title": "满意度调查",
        "survey": "第 {n} 次解决的问卷",
        "solved": "是否解决", "rating": "评分", "reasons": "不满意的原因", "comment": "留言",
        "outcome": "结果", "sent_at": "发送时间", "answered_at": "回答时间",
        "recovery": "挽回", "recovery_reason": "原因", "recovery_since": "标记时间",
        "recovery_followup": "跟进工单", "recovered_at": "结束时间",
        "yes": "是", "no": "否",
        "status": {"scheduled": "待发送", "sent": "已发送，等待回答", "answered": "已回答",
                   "withdrawn": "已撤回（工单重开）"},
        "outcomes": {"reopened": "已重开", "followup": "已新建跟进工单", "closed": "已关闭", "none": "无变化"},
        "recovery_state": {"open": "进行中", "done": "已结束"},
        "recovery_reasons": {"not_solved": "未解决", "low_rating": "评分低"},
    },
}


def staff_language() -> str:
    """``zh_CN`` when the staff page (console or API request) is in Chinese, else ``en``."""
    locale = get_locale()
    return "zh_CN" if locale is not None and str(locale).startswith("zh") else "en"


def staff_text() -> dict:
    """The staff panel's labels in the page's language."""
    return STAFF_TEXTS[staff_language()]
