"""The hook satisfaction_survey fires, for other plugins to implement.

Declared through ``register_hookspecs``: available while this plugin is on.
Implement it like a core hook (``@service.hookimpl def survey_answered(...)``).
The same answer, without the free text, is published as the
``survey.answered`` event (what webhooks deliver).
"""
from __future__ import annotations

from typing import Literal, TypedDict

from service import sdk


class SurveyAnswer(TypedDict):
    """A survey and its answer, as plain JSON-able data."""

    survey_id: int
    round: int  # 0 for the ticket's first resolution, 1 after one reopen, ...
    solved: bool
    rating: int  # 1-5
    effort: int | None  # 1-7, when asked
    nps: int | None  # 0-10, when asked
    reasons: list[str]  # codes: slow, unreachable, not_explained, unfriendly, extra_cost, product, other
    comment: str | None
    extra: dict  # answers to SURVEY_EXTRA_QUESTIONS, by key
    answered_at: str  # ISO time
    outcome: Literal["reopened", "followup", "closed", "none"]
    followup: str | None  # the follow-up ticket's number


@sdk.notification
def survey_answered(ticket: sdk.Ticket, answer: SurveyAnswer, actor: sdk.Actor) -> None:
    """A customer answered a satisfaction survey.

    Kind: notification, after the commit that recorded the answer together
    with what it set off (the ticket reopened, closed, or a follow-up
    opened); fired once per survey, as surveys are single use. A plugin
    that raises loses nothing: the error is written to the ticket's history.

    :param ticket: the committed ``Ticket`` the survey was about, in its
        status after the answer.
    :param answer: a ``SurveyAnswer`` dict: ``survey_id``, ``round`` (0 for
        the first resolution, 1 after one reopen, ...), ``solved`` (bool),
        ``rating`` (1-5), ``effort`` (1-7 or None), ``nps`` (0-10 or None),
        ``reasons`` (list of codes), ``comment`` (str or None), ``extra``
        (dict), ``answered_at`` (ISO time), ``outcome`` (``reopened``,
        ``followup``, ``closed`` or ``none``) and ``followup`` (the follow-up
        ticket's number or None).
    :param actor: the customer (``Actor`` of type ``customer``).
    :return: ignored.
    """
