"""The hook credit_check asks: ``credit_source``, an external credit score.

Declared by the plugin (``register_hookspecs``), so that another plugin (a
credit bureau's, the ERP's) may implement it; asked with ``sdk.ask`` by
``source.external_score``, in a thread of its own with a deadline and a
cache. With credit_check switched off nobody asks it, and a plugin that
implements it fails to start ("unknown hook").

The shapes it takes and answers are defined here too: ``CustomerSnapshot``
(what an implementation is given) and ``CreditSourceAnswer`` (what it answers).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from service import sdk


@dataclass(frozen=True)
class CustomerSnapshot:
    """What ``credit_source`` is given: the customer, detached from any session."""

    id: int
    external_ref: str | None
    name: str
    kind: str
    email: str | None


class CreditSourceAnswer(TypedDict):
    """``credit_source``: a score from 0 to 100 and the source's name (shown
    with the rating; default: the answering plugin's name)."""

    score: float
    source: NotRequired[str]


@sdk.decider
def credit_source(customer: CustomerSnapshot, quarter: str) -> CreditSourceAnswer | None:
    """Answer a customer's credit score from an external source (a credit
    bureau, a bank, the ERP's credit module).

    Asked by credit_check whenever it rates a customer; stops at the first
    non-None answer. The caller runs it in a thread of its own with a
    deadline (``CREDIT_SOURCE_TIMEOUT``) and keeps the answer per customer
    and quarter (``CREDIT_SOURCE_CACHE_SECONDS``), so an implementation may
    do network I/O, but must not use the caller's database session:
    ``customer`` is a snapshot, attached to none. A slow (past the
    deadline), failing or malformed answer is noted on the rating, and the
    internal score (the scorecard's) is used; after one the source is not
    asked again for a minute.

    :param customer: a ``CustomerSnapshot`` of the customer rated: ``id``,
        ``external_ref``, ``name``, ``kind`` and ``email``, read-only.
    :param quarter: the quarter being rated, e.g. ``"2026Q4"`` (rated from
        the previous quarter's figures).
    :return: a ``CreditSourceAnswer`` ``{"score": number from 0 to 100,
        "source": str}`` (``source``, the source's name shown with the
        rating, is optional: the plugin's name then), or None when this
        source knows nothing about the customer. No answer at all (no
        implementation, or all answer None): the internal score applies.
    """
