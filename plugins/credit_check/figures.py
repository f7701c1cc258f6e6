"""Figures in: a customer's numbers for a quarter, by the API and by CSV
(``kefu credit import FILE``).

Figures are keyed by the scorecard's indicator keys. A new set merges into
what is stored for that customer and quarter (financial statements and the
payment record may come separately); ``None`` (JSON null, or via the API)
removes a figure; a blank CSV cell leaves it as it is.

Writes go through ``sdk.UnitOfWork``: one per ``set_figures``, one per
batch of ``BATCH`` rows of an import.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field

from sqlalchemy import select

from service import sdk

from . import quarters
from .models import CreditFigures
from .scorecard import as_decimal
from .settings import settings

BATCH = 500
VALUE_MAX = 10**12  # far beyond any ratio, rate or count; keeps JSON numbers sane


def check_value(key: str, value) -> float | None:
    """A figure as stored (a float), None to remove it; ``ValueError`` saying why."""
    if key not in settings().scorecard.keys:
        raise ValueError(f"{key!r} is not an indicator of the scorecard")
    if value is None:
        return None
    try:
        number = float(as_decimal(value))
    except ValueError as exc:
        raise ValueError(f"{key}: {value!r} {exc}") from None
    if not math.isfinite(number) or abs(number) > VALUE_MAX:
        raise ValueError(f"{key}: {value!r} is out of range")
    return number


def _merge(customer_id: int, quarter: str, values: dict) -> CreditFigures:
    row = sdk.db.session.scalar(select(CreditFigures).where(CreditFigures.customer_id == customer_id,
                                                        CreditFigures.quarter == quarter))
    if row is None:
        row = CreditFigures(customer_id=customer_id, quarter=quarter, data={})
        sdk.db.session.add(row)
    merged = {**row.data, **values}
    row.data = {k: v for k, v in merged.items() if v is not None}  # a new dict: JSON columns track assignment
    row.updated_at = sdk.utcnow()
    return row


def _quarter(quarter: str) -> str:
    try:
        return quarters.check(quarter)
    except ValueError as exc:
        raise sdk.ValidationFailed(str(exc), {"quarter": [str(exc)]}) from None


def set_figures(customer_id: int, quarter: str, values: dict) -> CreditFigures:
    """Merge ``values`` ({indicator key: number or None}) into the customer's
    figures for ``quarter`` and commit. 404 for an unknown customer; 422
    naming ``quarter`` for a bad quarter, ``figures.<key>`` for an unknown
    key or a value that is not a number (then nothing is stored)."""
    with sdk.UnitOfWork() as uow:
        sdk.hold_customer(customer_id)  # a concurrent delete of the customer waits, or wins with a 404
        _quarter(quarter)
        clean, errors = {}, {}
        for key, value in values.items():
            try:
                clean[key] = check_value(key, value)
            except ValueError as exc:
                errors[f"figures.{key}"] = [str(exc)]
        if errors:
            raise sdk.ValidationFailed("some figures are not acceptable", errors)
        row = _merge(customer_id, quarter, clean)
        uow.commit()
    return row


def figures_of(customer_id: int, quarter: str) -> CreditFigures | None:
    """The stored figures of a customer for a quarter, or None."""
    return sdk.db.session.scalar(select(CreditFigures).where(CreditFigures.customer_id == customer_id,
                                                             CreditFigures.quarter == quarter))


def figures_view(customer_id: int, quarter: str) -> dict:
    """The customer's figures for ``quarter`` as the credit API shows them:
    ``customer_id``, ``quarter``, ``figures``, the indicators still
    ``missing`` and ``updated_at``. 404 for an unknown customer, 422 naming
    ``quarter`` for a bad quarter."""
    sdk.get_customer(customer_id)
    row = figures_of(customer_id, _quarter(quarter))
    data = row.data if row is not None else {}
    return {"customer_id": customer_id, "quarter": quarter, "figures": data,
            "missing": settings().scorecard.missing(data), "updated_at": row.updated_at if row else None}


def put_figures(customer_id: int, quarter: str, values: dict) -> dict:
    """``set_figures``, then the customer's figures for ``quarter`` as ``figures_view`` shows them."""
    set_figures(customer_id, quarter, values)
    return figures_view(customer_id, quarter)


@dataclass
class ImportResult:
    """What an import did: rows merged, and ``(line, reason)`` for each rejected row."""

    imported: int = 0
    errors: list = field(default_factory=list)


def import_figures(text, progress=None) -> ImportResult:
    """Import CSV from the text stream ``text``.

    Header: ``customer_ref,quarter`` then any indicator keys. Each row names
    a customer (``external_ref``) and a quarter (``2026Q3``); its non-blank
    cells are merged. A bad row is reported as ``(line number, reason)`` and
    skipped; good rows are committed. An unknown column rejects the file
    (line 1). ``progress()`` is called once per row. Good rows are written
    ``BATCH`` at a time, each batch a unit of work.
    """
    result = ImportResult()
    reader = csv.DictReader(text)
    header = reader.fieldnames or []
    keys = settings().scorecard.keys
    unknown = [c for c in header if c not in ("customer_ref", "quarter") and c not in keys]
    if not header or "customer_ref" not in header or "quarter" not in header or unknown:
        why = (f"unknown column(s) {', '.join(unknown)}" if unknown
               else "the header must have customer_ref, quarter and indicator columns")
        result.errors.append((1, why))
        return result
    refs, batch = {}, []
    for row in reader:
        line = reader.line_num
        if progress is not None:
            progress()
        try:
            if row.get(None):
                raise ValueError(f"{len(row[None])} more field(s) than the header has")
            ref = (row.get("customer_ref") or "").strip()
            if not ref:
                raise ValueError("customer_ref is empty")
            if ref not in refs:
                refs[ref] = sdk.db.session.scalar(select(sdk.Customer.id)
                                                  .where(sdk.Customer.external_ref == ref))
            if refs[ref] is None:
                raise ValueError(f"no customer with external_ref {ref!r}")
            quarter = quarters.check((row.get("quarter") or "").strip())
            values = {k: check_value(k, row[k]) for k in keys if (row.get(k) or "").strip()}
            if not values:
                raise ValueError("no figures in the row")
        except ValueError as exc:
            result.errors.append((line, str(exc)))
            continue
        batch.append((refs[ref], quarter, values))
        if len(batch) >= BATCH:
            result.imported += _write(batch)
    result.imported += _write(batch)
    return result


def _write(batch: list) -> int:
    """Merge a batch of checked rows ``(customer id, quarter, values)`` in one
    unit of work; empties ``batch`` and returns how many rows it held."""
    if not batch:
        return 0
    with sdk.UnitOfWork() as uow:
        for customer_id, quarter, values in batch:
            _merge(customer_id, quarter, values)
        uow.commit()
    count = len(batch)
    batch.clear()
    return count
