"""Survey links: an ``itsdangerous``-signed token per survey, only its key's hash stored.

A token signs ``[survey id, key]``. The key is an HMAC of the survey's
random nonce under ``SECRET_KEY``, so the link can be shown again (on the
tracking page, in the reminder) without being stored; only its SHA-256 is
kept, and checked in constant time. A forged or altered token fails the
signature; a token whose key does not match (another survey, a changed
``SECRET_KEY``) fails the hash. Whether the survey still takes an answer
(single use, expiry, withdrawn) is decided by ``survey_for_token``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from service import sdk

from .models import Survey

SALT = "kefu.satisfaction_survey"


class SurveyClosed(sdk.KefuError):
    """The survey no longer takes answers: expired or withdrawn (410)."""

    status, code = 410, "survey_closed"


class SurveyAnswered(sdk.Conflict):
    """The survey was answered already: its link is single use (409)."""

    code = "survey_answered"


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _key(nonce: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), f"{SALT}:{nonce}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def seal(survey: Survey) -> None:
    """Give a new survey its nonce and key hash (before it is inserted)."""
    survey.nonce = secrets.token_hex(16)
    survey.token_hash = _digest(_key(survey.nonce))


def token_for(survey: Survey) -> str:
    """The survey's link token (the same every time it is asked for)."""
    return _serializer().dumps([survey.id, _key(survey.nonce)])


def _survey_of(token: str) -> Survey | None:
    try:
        value = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
            and not isinstance(value[0], bool) and 0 < value[0] < 2**31 and isinstance(value[1], str)):
        return None
    survey = sdk.db.session.get(Survey, value[0])
    if survey is None or not hmac.compare_digest(survey.token_hash, _digest(value[1])):
        return None
    return survey


def survey_for_token(token: str, now=None) -> Survey:
    """The open survey a token opens.

    Raises ``NotFound`` (404) for a forged, altered or unknown token or a
    survey not delivered yet, ``SurveyAnswered`` (409) once it was answered,
    ``SurveyClosed`` (410) when it expired or was withdrawn.
    """
    survey = _survey_of(token)
    if survey is None or survey.status == "scheduled":
        raise sdk.NotFound("no survey for this link")
    if survey.status == "answered":
        raise SurveyAnswered("this survey was already answered; thank you", {"survey_token": ["already used"]})
    if survey.status == "withdrawn":
        raise SurveyClosed("this survey is closed: the ticket was taken up again",
                           {"survey_token": ["withdrawn"]})
    if survey.expires_at is not None and survey.expires_at <= (now or sdk.utcnow()):
        raise SurveyClosed("this survey link has expired", {"survey_token": ["expired"]})
    return survey
