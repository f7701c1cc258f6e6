"""Transactions in: the CSV import (``kefu transactions import FILE``) and the API use case.

A transaction is one sale, or a credit note (negative amount), to a customer:
date, amount in ``TIER_CURRENCY`` (two decimals at most), an optional
margin, the seller's reference, and an optional ``type``: ``sale`` (the
default), ``return``, ``exchange`` or ``cancellation``. ``(customer, reference)`` is unique, so
a file or request sent twice adds nothing the second time: repeats are
skipped and counted, never errors.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service import sdk

from .models import TRANSACTION_TYPES, Transaction
from .settings import tier_settings

IMPORT_COLUMNS = ("customer_ref", "date", "amount", "currency", "reference")  # "margin" and "type" are optional
BATCH = 5_000
AMOUNT = re.compile(r"^-?\d{1,13}(\.\d{1,2})?$")  # fits BigInteger minor units with room to sum
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
TEXT_MAX = 80  # customer_ref (Customer.external_ref) and reference


def parse_amount(value, name: str = "amount") -> int:
    """``"-12.5"`` -> ``-1250`` minor units; ``ValueError`` saying why otherwise."""
    text = str(value).strip()
    if not AMOUNT.fullmatch(text):
        raise ValueError(f"{name} {text!r} is not a decimal number with at most two decimals")
    whole, _, frac = text.lstrip("-").partition(".")
    minor = int(whole) * 100 + int((frac + "00")[:2])
    return -minor if text.startswith("-") else minor


def check_currency(value: str, currency: str) -> str:
    """The currency code if it is ``currency`` (``TIER_CURRENCY``); ``ValueError`` otherwise."""
    code = (value or "").strip()
    if not _CURRENCY.fullmatch(code):
        raise ValueError(f"currency {code!r} is not a 3-letter ISO code such as CNY")
    if code != currency:
        raise ValueError(f"currency {code} is not {currency} (TIER_CURRENCY): convert amounts before importing")
    return code


def parse_type(value) -> str:
    """A transaction type from text (blank: ``sale``); ``ValueError`` naming the choices otherwise."""
    kind = (value or "").strip().lower() or "sale"
    if kind not in TRANSACTION_TYPES:
        raise ValueError(f"type {value!r} is not one of {', '.join(TRANSACTION_TYPES)}")
    return kind


def parse_row(row: dict, currency: str) -> dict:
    """Validate one CSV row; return ``customer_ref`` and transaction fields, or
    raise ``ValueError`` saying why (the first problem found)."""
    if row.get(None):  # csv.DictReader puts fields beyond the header under None
        raise ValueError(f"{len(row[None])} more field(s) than the header has")
    ref = (row.get("customer_ref") or "").strip()
    if not ref:
        raise ValueError("customer_ref is empty")
    raw_date = (row.get("date") or "").strip()
    try:
        if not _DATE.fullmatch(raw_date):
            raise ValueError
        occurred_on = date.fromisoformat(raw_date)
    except ValueError:
        raise ValueError(f"date {raw_date!r} is not a date YYYY-MM-DD") from None
    amount = parse_amount(row.get("amount") or "")
    margin_text = (row.get("margin") or "").strip()
    margin = parse_amount(margin_text, "margin") if margin_text else None
    code = check_currency(row.get("currency") or "", currency)
    reference = (row.get("reference") or "").strip()
    if not reference:
        raise ValueError("reference is empty")
    for name, value in (("customer_ref", ref), ("reference", reference)):
        if len(value) > TEXT_MAX:
            raise ValueError(f"{name} is longer than {TEXT_MAX} characters")
    return {"customer_ref": ref, "occurred_on": occurred_on, "amount_minor": amount, "margin_minor": margin,
            "currency": code, "reference": reference, "type": parse_type(row.get("type"))}


def insert_new(rows: list[dict]) -> int:
    """Insert transaction rows (model column names, ``customer_id`` set), skipping
    any whose ``(customer_id, reference)`` is already stored, also by a
    concurrent writer (``ON CONFLICT DO NOTHING``). Returns how many were
    inserted. Does not commit."""
    if not rows:
        return 0
    table = Transaction.__table__
    insert = pg_insert if sdk.db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(table).on_conflict_do_nothing(index_elements=["customer_id", "reference"])
            .returning(table.c.id))
    now = sdk.utcnow()
    return len(sdk.db.session.execute(stmt, [{**r, "created_at": now} for r in rows]).all())


@dataclass
class ImportResult:
    """What an import did: rows inserted, repeats skipped, ``(line, reason)`` errors."""

    imported: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _flush(batch: list[tuple[int, dict]], result: ImportResult) -> None:
    if not batch:
        return
    Customer = sdk.Customer
    refs = {fields["customer_ref"] for _, fields in batch}
    # A unit of work per batch: an interrupted import can simply be run again.
    with sdk.UnitOfWork() as uow:
        ids = dict(sdk.db.session.execute(select(Customer.external_ref, Customer.id)
                                          .where(Customer.external_ref.in_(refs))).all())
        rows, errors = [], []
        for line, fields in batch:
            customer_id = ids.get(fields["customer_ref"])
            if customer_id is None:
                errors.append((line, f"customer_ref {fields['customer_ref']!r} is not a known customer"))
                continue
            rows.append({"customer_id": customer_id, **{k: v for k, v in fields.items() if k != "customer_ref"}})
        inserted = insert_new(rows)
        uow.commit()
    result.errors += errors
    result.imported += inserted
    result.skipped += len(rows) - inserted


def import_transactions(lines, progress=None) -> ImportResult:
    """Import transactions from CSV ``lines`` (a text file or any iterable of
    lines) with the header ``IMPORT_COLUMNS`` (plus optional ``margin`` and
    ``type``: sale, return, exchange or cancellation; blank or absent: sale).

    Good rows are imported even when others are bad; each bad row is
    reported as ``(line number, reason)``: unknown ``customer_ref`` (a
    customer's ``external_ref``), bad date, amount, margin or type, a currency
    other than ``TIER_CURRENCY``, empty reference, extra fields. A row
    repeating a stored or earlier ``(customer, reference)`` is skipped.
    Commits every ``BATCH`` rows. ``progress(n)`` is called as rows are read.
    """
    currency = tier_settings().currency
    reader = csv.DictReader(lines)
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    result = ImportResult()
    if missing:
        result.errors.append((1, f"header lacks column(s): {', '.join(missing)}"))
        return result
    batch, seen = [], set()
    for row in reader:
        line = reader.line_num
        try:
            fields = parse_row(row, currency)
        except ValueError as exc:
            result.errors.append((line, str(exc)))
        else:
            key = (fields["customer_ref"], fields["reference"])
            if key in seen:
                result.skipped += 1
            else:
                seen.add(key)
                batch.append((line, fields))
        if len(batch) >= BATCH:
            _flush(batch, result)
            batch = []
        if progress:
            progress(1)
    _flush(batch, result)
    result.errors.sort()
    return result


def add_transactions(items: list[dict]) -> dict:
    """The API use case: validated items (``customer_id`` or ``customer_ref``,
    ``occurred_on``, ``amount_minor``, ``margin_minor``, ``currency``,
    ``reference``, optional ``type``, default ``sale``), all or nothing.

    422 naming ``transactions.<i>.<field>`` for an unknown customer or a
    currency other than ``TIER_CURRENCY``. Repeats (stored, or earlier in
    the request) are skipped. Commits; returns ``{"created", "skipped"}``.
    """
    Customer, session = sdk.Customer, sdk.db.session
    currency = tier_settings().currency
    errors: dict[str, list[str]] = {}
    ids = {i["customer_id"] for i in items if i.get("customer_id") is not None}
    refs = {i["customer_ref"] for i in items if i.get("customer_ref") is not None}
    known_ids = set(session.scalars(select(Customer.id).where(Customer.id.in_(ids)))) if ids else set()
    by_ref = dict(session.execute(select(Customer.external_ref, Customer.id)
                                  .where(Customer.external_ref.in_(refs))).all()) if refs else {}
    rows, seen = [], set()
    for n, item in enumerate(items):
        if item.get("customer_id") is not None:
            customer_id = item["customer_id"] if item["customer_id"] in known_ids else None
            if customer_id is None:
                errors[f"transactions.{n}.customer_id"] = [f"no customer with id {item['customer_id']}"]
        else:
            customer_id = by_ref.get(item["customer_ref"])
            if customer_id is None:
                errors[f"transactions.{n}.customer_ref"] = [f"no customer with external_ref {item['customer_ref']!r}"]
        try:
            check_currency(item["currency"], currency)
        except ValueError as exc:
            errors[f"transactions.{n}.currency"] = [str(exc)]
        if customer_id is not None and (customer_id, item["reference"]) not in seen:
            seen.add((customer_id, item["reference"]))
            rows.append({"customer_id": customer_id, "occurred_on": item["occurred_on"],
                         "amount_minor": item["amount_minor"], "margin_minor": item.get("margin_minor"),
                         "currency": item["currency"], "reference": item["reference"],
                         "type": item.get("type") or "sale"})
    if errors:
        raise sdk.ValidationFailed("invalid transactions: " + ", ".join(sorted(errors)), errors)
    with sdk.UnitOfWork() as uow:
        created = insert_new(rows)
        uow.commit()
    return {"created": created, "skipped": len(items) - created}
