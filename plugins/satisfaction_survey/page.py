"""The survey's own web page, ``/survey/<token>``: a small form that works
without the web UI, on a phone, with a keyboard and without JavaScript.

GET shows the form and records nothing (mail scanners follow links); POST
answers through the same use case as the JSON API. The form carries a CSRF
token (field ``csrf_token``, Flask-WTF's) that kefu's web UI checks on every
form outside the API before this view runs. A forged, used, expired or
withdrawn link gets a page saying so, with the matching status code. The
page is rate-limited per client like the core's customer pages
(``sdk.public_rate_limit``); its blueprint also holds the plugin's mail
templates (``templates/mail``).
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError

from service import sdk

from .answers import answer_survey, is_bad
from .public_api import SurveyAnswerIn
from .questions import LOW_RATING, language_of, localized
from .settings import survey_settings
from .texts import text
from .tokens import SurveyAnswered, SurveyClosed, survey_for_token

bp = Blueprint("satisfaction_survey_page", __name__, url_prefix="/survey", template_folder="templates")
sdk.public_rate_limit(bp)
TEMPLATE = "satisfaction_survey/page.html"
SCALES = ("rating", "effort", "nps")


def _visitor_language() -> str:
    return language_of(request.accept_languages.best_match(["en", "zh_CN", "zh"]) or "en")


def _error_key(exc: sdk.KefuError) -> str:
    if isinstance(exc, sdk.NotFound):
        return "error_not_found"
    if isinstance(exc, SurveyAnswered):
        return "error_answered"
    if isinstance(exc, SurveyClosed):
        return "error_expired" if "expired" in exc.fields.get("survey_token", []) else "error_withdrawn"
    return "error_conflict"


def _error_page(key: str, status: int, lang: str):
    return render_template(TEMPLATE, state="error", t=text(lang), message=text(lang)[key]), status


def _form_page(survey, token, values=None, errors=None, status=200):
    lang = survey.language
    return render_template(TEMPLATE, state="form", t=text(lang), survey=survey, token=token,
                           questions=localized(survey_settings(), lang), values=values or {},
                           errors=errors or {}, csrf_token=generate_csrf()), status


def _whole(value):
    value = (value or "").strip()
    return int(value) if value.lstrip("-").isdigit() and len(value) < 6 else (value or None)


def form_answer(form, questions) -> dict:
    """The answer a submitted form gives, in the JSON API's shape (left for
    ``SurveyAnswerIn`` to check: a missing or malformed value stays so)."""
    data = {}
    if form.get("solved") in ("yes", "no"):
        data["solved"] = form["solved"] == "yes"
    elif form.get("solved"):
        data["solved"] = form["solved"]
    for key in SCALES:
        if form.get(key, "").strip():
            data[key] = _whole(form[key])
    data["reasons"] = form.getlist("reasons")
    if isinstance(data.get("rating"), int) and data["rating"] > LOW_RATING:
        # Without JavaScript the reasons cannot hide for a good rating; boxes
        # ticked before the rating was raised are not an error on the page.
        data["reasons"] = []
    data["comment"] = form.get("comment") or None
    extra = {}
    for q in questions:
        if q["extra"] and form.get(f"extra.{q['key']}", "").strip():
            raw = form[f"extra.{q['key']}"]
            extra[q["key"]] = _whole(raw) if q["type"] == "scale" else raw
    data["extra"] = extra
    return data


@bp.route("/<token>", methods=["GET", "POST"])
def page(token):
    """The survey form (GET), or the answer (POST) and a thank-you page."""
    try:
        survey = survey_for_token(token)
    except sdk.KefuError as exc:
        return _error_page(_error_key(exc), exc.status, _visitor_language())
    if request.method != "POST":  # GET and HEAD only show: a link followed records nothing
        return _form_page(survey, token)
    lang = survey.language
    questions = localized(survey_settings(), lang)
    values = form_answer(request.form, questions)
    try:
        data = SurveyAnswerIn().load(values)
        result = answer_survey(token, data)
    except ValidationError as exc:
        return _form_page(survey, token, values, {k: v for k, v in exc.messages.items()}, 422)
    except sdk.KefuError as exc:
        if exc.status == 422:
            return _form_page(survey, token, values, exc.fields, 422)
        return _error_page(_error_key(exc), exc.status, lang)
    followup = result["followup"]
    t = text(lang)
    message = t[f"outcome_{result['outcome']}"].format(number=result["ticket"].number,
                                                        followup=followup.number if followup else "")
    if result["outcome"] == "none" and is_bad(result["survey"].solved, result["survey"].rating):
        message = t["outcome_recovery"]
    link = sdk.tracking_url(result["followup_token"]) if result["followup_token"] else None
    return render_template(TEMPLATE, state="done", t=t, message=message, followup_link=link)
