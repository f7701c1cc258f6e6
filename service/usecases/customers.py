"""Customer use cases: find-or-create from a contact, CRUD, CSV import."""
from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from service.domain.errors import Conflict, ValidationFailed
from service.extensions import db
from service.models import CUSTOMER_KINDS, Customer, Ticket
from service.reads.lookup import customer_by_id
from service.usecases.uow import UnitOfWork

IMPORT_COLUMNS = ("external_ref", "name", "kind", "email", "phone", "language")
IMPORT_LANGUAGES = ("en", "zh_CN")  # as the API accepts
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,30}$")  # as the API accepts


def customer_for_contact(contact: dict) -> Customer:
    """The customer with this e-mail (else phone), or a new one; in the open transaction.

    ``contact``: ``name``, ``email`` and/or ``phone``, ``language``. 422
    naming ``contact`` when neither e-mail nor phone is given.
    """
    email = (contact.get("email") or "").strip().lower() or None
    phone = (contact.get("phone") or "").strip() or None
    if not email and not phone:
        raise ValidationFailed("give an e-mail address or a phone number",
                               {"contact": ["email or phone is required"]})
    customer = None
    if email:
        customer = db.session.scalar(select(Customer).where(func.lower(Customer.email) == email).limit(1))
    if customer is None and phone:
        customer = db.session.scalar(select(Customer).where(Customer.phone == phone).limit(1))
    if customer is None:
        customer = Customer(kind="person", name=(contact.get("name") or email or phone).strip()[:200],
                            email=email, phone=phone, language=contact.get("language") or "en")
        db.session.add(customer)
        db.session.flush()
    return customer


def _check_unique_ref(ref, exclude_id=None):
    if not ref:
        return
    stmt = select(Customer.id).where(Customer.external_ref == ref)
    if exclude_id:
        stmt = stmt.where(Customer.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict(f"external_ref {ref!r} is taken", {"external_ref": ["already used by another customer"]})


def create_customer(data: dict) -> Customer:
    """Create a customer from validated ``data``; 409 when ``external_ref`` is taken."""
    with UnitOfWork() as uow:
        _check_unique_ref(data.get("external_ref"))
        customer = Customer(**data)
        db.session.add(customer)
        uow.commit()
    return customer


def update_customer(customer_id: int, data: dict) -> Customer:
    """Change the given fields of customer ``customer_id`` (404 when missing)."""
    with UnitOfWork() as uow:
        customer = customer_by_id(customer_id)
        _check_unique_ref(data.get("external_ref"), exclude_id=customer.id)
        for key, value in data.items():
            setattr(customer, key, value)
        uow.commit()
    return customer


def delete_customer(customer_id: int) -> None:
    """Delete a customer with no tickets; 409 when tickets refer to them."""
    with UnitOfWork() as uow:
        customer = customer_by_id(customer_id)
        if db.session.scalar(select(Ticket.id).where(Ticket.customer_id == customer.id).limit(1)):
            raise Conflict("customer has tickets and cannot be deleted", {"id": ["has tickets"]})
        db.session.delete(customer)
        uow.commit()


def parse_import_row(row: dict) -> dict:
    """Validate one CSV row; return model fields or raise ``ValueError`` saying why."""
    ref, name = (row.get("external_ref") or "").strip(), (row.get("name") or "").strip()
    kind = (row.get("kind") or "person").strip() or "person"
    if not ref:
        raise ValueError("external_ref is empty")
    if not name:
        raise ValueError("name is empty")
    if kind not in CUSTOMER_KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(CUSTOMER_KINDS)}")
    email = (row.get("email") or "").strip() or None
    if email and ("@" not in email or " " in email):
        raise ValueError(f"email {email!r} is not an address")
    phone = (row.get("phone") or "").strip() or None
    if phone and not _PHONE.match(phone):
        raise ValueError(f"phone {phone!r} is not a phone number")
    language = (row.get("language") or "en").strip() or "en"
    if language not in IMPORT_LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(IMPORT_LANGUAGES)}")
    # The same limits as the API and the columns: too long would fail the whole
    # import on PostgreSQL (and be stored over-long on SQLite).
    for column, value, limit in (("external_ref", ref, 80), ("name", name, 200), ("email", email, 254)):
        if value and len(value) > limit:
            raise ValueError(f"{column} is longer than {limit} characters")
    if row.get(None):  # csv.DictReader puts fields beyond the header under None
        raise ValueError(f"{len(row[None])} more field(s) than the header has")
    return {"external_ref": ref, "name": name, "kind": kind, "email": email, "phone": phone,
            "language": language}


def import_customers(text: str, progress=None) -> tuple[int, int, list[tuple[int, str]]]:
    """Import customers from CSV text with the header ``IMPORT_COLUMNS``.

    Rows whose ``external_ref`` exists update that customer. Returns
    ``(created, updated, errors)`` where errors are ``(line number, reason)``;
    good rows are imported even when others are bad. ``progress(n)`` is
    called after each row.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return 0, 0, [(1, f"header lacks column(s): {', '.join(missing)}")]
    created = updated = 0
    errors, seen = [], set()
    with UnitOfWork() as uow:
        for row in reader:
            line = reader.line_num
            try:
                fields = parse_import_row(row)
                if fields["external_ref"] in seen:
                    raise ValueError(f"external_ref {fields['external_ref']!r} repeats an earlier row")
            except ValueError as exc:
                errors.append((line, str(exc)))
            else:
                seen.add(fields["external_ref"])
                existing = db.session.scalar(select(Customer).where(Customer.external_ref == fields["external_ref"]))
                if existing:
                    for key, value in fields.items():
                        setattr(existing, key, value)
                    updated += 1
                else:
                    db.session.add(Customer(**fields))
                    created += 1
            if progress:
                progress(1)
        uow.commit()
    return created, updated, errors
