"""credit_check on the console's customer pages, for finance, supervisors and
admins only (as the credit API): the grade column of the customer list
(``customer_list_columns``, a filter), the profile's credit section
(``customer_sections``), and the plugin's part of a merge of two customer
records (``merging_customers``).

Merging moves every rating and breakdown view of the duplicate to the kept
record (the rating in force is then the latest of both, by quarter). Figures
are one row per customer and quarter: the duplicate's figures move for the
quarters the kept record has none; where both have a quarter, the indicators
only the duplicate has are merged in (the kept record's own values win) and
the duplicate's row is dropped. Agents get nothing here: no column, no
section (so a grade filter in an agent's address is ignored).
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import aliased

from service import sdk
from service.sdk import Customer
from service.sdk import gettext as _

from .gate import TEXTS, language, may_see_credit
from .models import CreditFigures, CreditRating, CreditView
from .rating import INTERNAL
from .settings import settings


@functools.cache
def grade_sql():
    """The grade in force (the latest rating of the latest quarter rated), or
    NULL when unrated: one lookup on (customer_id, quarter, id)."""
    r = CreditRating
    return (select(r.grade).where(r.customer_id == Customer.id, r.status == "rated")
            .order_by(r.quarter.desc(), r.id.desc()).limit(1).scalar_subquery())


def list_columns(staff) -> list[sdk.CustomerListColumn]:
    """The grade filter for those who may see credit; nothing for others."""
    if not may_see_credit(staff):
        return []
    return [{"key": "credit_check.grade", "label": _("Credit grade"), "expression": grade_sql(),
             "choices": [{"value": grade, "label": grade} for grade, _minimum in settings().grades]}]


@functools.cache
def _rating_statement():
    r = CreditRating
    return (select(r.status, r.grade, r.score, r.quarter, r.source, func.count().over().label("total"))
            .where(r.customer_id == bindparam("customer_id"))
            .order_by(r.quarter.desc(), r.id.desc()).limit(1))


_RATING = ("status", "grade", "score", "quarter", "source")


def profile_columns() -> dict:
    """For the core's read of a customer whose profile is shown: the rating
    in force's columns (the latest quarter's latest rating, as
    ``rating.current_rating``) and how many ratings there are, as
    ``credit_check.profile.<name>``."""
    r, latest = CreditRating, aliased(CreditRating)  # the inner one must not correlate to the outer
    mine = r.customer_id == Customer.id
    in_force = (select(latest.id).where(latest.customer_id == Customer.id)
                .order_by(latest.quarter.desc(), latest.id.desc()).limit(1)
                .correlate(Customer).scalar_subquery())  # to the read's customer, two levels out
    columns = {f"credit_check.profile.{name}": select(getattr(r, name)).where(r.id == in_force).scalar_subquery()
               for name in _RATING}
    columns["credit_check.profile.total"] = select(func.count()).select_from(r).where(mine).scalar_subquery()
    return columns


def _profile_rating(customer) -> tuple:
    """``(rating in force or None, how many ratings)``: as read with the
    customer for the profile, else in one statement."""
    total = sdk.preloaded(customer, "credit_check.profile.total")
    if total is sdk.NOT_LOADED:
        rating = sdk.read(_rating_statement(), {"customer_id": customer.id}).first()
        return rating, rating.total if rating is not None else 0
    if not total:
        return None, 0
    return SimpleNamespace(**{name: sdk.preloaded(customer, f"credit_check.profile.{name}")
                              for name in _RATING}), total


def sections(customer, staff) -> list[sdk.CustomerSection]:
    """The credit section: grade (or not rated), score, quarter, source and
    how many ratings the customer has; only for those who may see credit."""
    if not may_see_credit(staff):
        return []
    text = TEXTS[language()]
    rating, count = _profile_rating(customer)
    if rating is None:
        rows: list[sdk.PanelRow] = [{"label": text["grade"], "value": text["not_rated"], "kind": "badge"}]
    else:
        rows = [{"label": text["grade"], "value": rating.grade if rating.status == "rated" else text["unrated"],
                 "kind": "badge"}]
        if rating.score is not None:
            rows.append({"label": text["score"], "value": str(rating.score), "kind": "text"})
        rows += [{"label": text["quarter"], "value": rating.quarter, "kind": "text"},
                 {"label": text["source"], "value": text["scorecard"] if rating.source == INTERNAL else rating.source,
                  "kind": "text"}]
    rows.append({"label": _("Ratings"), "value": count, "kind": "text"})
    return [{"key": "credit", "title": text["title"], "rows": rows}]


def merge(kept, merged) -> list[sdk.MergeMoved]:
    """Move the duplicate's ratings, views and figures (see the module docstring)."""
    db = sdk.db.session
    ratings = db.execute(update(CreditRating).where(CreditRating.customer_id == merged.id)
                         .values(customer_id=kept.id).execution_options(synchronize_session=False)).rowcount
    db.execute(update(CreditView).where(CreditView.customer_id == merged.id)
               .values(customer_id=kept.id).execution_options(synchronize_session=False))
    kept_quarters = {f.quarter: f for f in db.scalars(select(CreditFigures)
                                                       .where(CreditFigures.customer_id == kept.id))}
    figures = 0
    for row in db.scalars(select(CreditFigures).where(CreditFigures.customer_id == merged.id)).all():
        mine = kept_quarters.get(row.quarter)
        if mine is None:
            row.customer_id = kept.id
        else:
            mine.data = {**(row.data or {}), **(mine.data or {})}
            db.flush()
            db.execute(delete(CreditFigures).where(CreditFigures.id == row.id)
                       .execution_options(synchronize_session=False))
            db.expunge(row)
        figures += 1
    db.flush()
    return [{"key": "credit_ratings", "label": _("Credit ratings"), "count": ratings},
            {"key": "credit_figures", "label": _("Credit figures (quarters)"), "count": figures}]
