"""Customer use cases: find-or-create from a contact, CRUD, CSV import."""
from __future__ import annotations

import csv
import io
import re
import reprlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO

from babel.core import parse_locale
from marshmallow import ValidationError, validate
from sqlalchemy import func, select

from service.domain.errors import Conflict, ValidationFailed
from service.extensions import db
from service.models import CUSTOMER_KINDS, Customer, Ticket
from service.reads.lookup import customer_by_id
from service.usecases.uow import UnitOfWork

IMPORT_COLUMNS = ("external_ref", "name", "kind", "email", "phone", "language")
IMPORT_LANGUAGES = ("en", "zh_CN")  # as the API accepts
# Characters in any field, imported or not: far above the longest column
# (email, 254), low enough that a runaway field is a bad row, not a burden.
IMPORT_FIELD_LIMIT = 4096
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,30}$")  # as the API accepts
_EMAIL = validate.Email()  # the API's fields.Email, with Length(max=254) checked apart
# The stored code for each language subtag: Chinese in any script or region
# is zh_CN, the only Chinese there is (as for the pages, service.web.i18n).
_LANGUAGE_CODES = {code.split("_")[0]: code for code in IMPORT_LANGUAGES}
# C0 and C1 controls and DEL have no place in a name, reference or address
# (PostgreSQL refuses NUL outright); surrogates are not text at all.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UNDECODED = re.compile("[\udc80-\udcff]")  # an undecodable byte, under errors="surrogateescape"


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


class NotUtf8(Exception):
    """The import file is not UTF-8 text; ``line`` is the first line that is not."""

    def __init__(self, line: int):
        super().__init__(f"line {line} is not UTF-8 text")
        self.line = line


def utf8_lines(binary: IO[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 byte stream, read as they are asked for, for
    ``import_customers``: split as csv wants them (``newline=""``), a leading
    BOM (as Excel writes) dropped. Raises ``NotUtf8`` at the first line that
    is not UTF-8. ``binary`` is left open.
    """
    # Not errors="strict": that fails on a whole chunk, so the line would be
    # unknown. Escaped, an undecodable byte becomes a lone surrogate, which
    # text decoded from UTF-8 never holds.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        for number, line in enumerate(text, 1):
            if _UNDECODED.search(line):
                raise NotUtf8(number)
            yield line
    finally:
        text.detach()


def _shown(value: str) -> str:
    return reprlib.repr(value)  # quoted, and shortened: a reason is one line


def _check_text(column: str, value: str) -> None:
    bad = _NOT_TEXT.search(value)
    if bad:
        char = bad.group()
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise ValueError(f"{column} contains {what} (U+{ord(char):04X})")


def _import_language(tag: str) -> str:
    # Any tag of a language we store: en-GB, EN, zh, zh-Hans, zh_CN, en_US.UTF-8.
    try:
        language = parse_locale(tag.replace("-", "_"))[0]
    except ValueError:
        language = None
    if language not in _LANGUAGE_CODES:
        raise ValueError(f"language {_shown(tag)} is not one of {', '.join(IMPORT_LANGUAGES)} "
                         f"(or a tag of theirs such as en-GB, zh or zh-Hans)")
    return _LANGUAGE_CODES[language]


def parse_import_row(row: dict) -> dict:
    """Validate one CSV row (``IMPORT_COLUMNS`` -> text as read); return the
    model fields or raise ``ValueError`` saying why, naming the column.

    Values are stripped. The API's rules: ``external_ref`` and ``name``
    required (not blank), ``kind`` one of ``CUSTOMER_KINDS`` (default
    person), ``email`` an address (marshmallow's Email, at most 254
    characters), ``phone`` the API's pattern, ``language`` a tag of English
    or Chinese normalised to ``IMPORT_LANGUAGES`` (default en). No column may
    hold a control character or a lone surrogate.
    """
    values = {}
    for column in IMPORT_COLUMNS:
        values[column] = (row.get(column) or "").strip()
        _check_text(column, values[column])
    ref, name, kind = values["external_ref"], values["name"], values["kind"] or "person"
    if not ref:
        raise ValueError("external_ref is empty")
    if not name:
        raise ValueError("name is empty")
    # The same limits as the API and the columns: too long would fail the whole
    # import on PostgreSQL (and be stored over-long on SQLite).
    for column, limit in (("external_ref", 80), ("name", 200), ("email", 254)):
        if len(values[column]) > limit:
            raise ValueError(f"{column} is longer than {limit} characters")
    if kind not in CUSTOMER_KINDS:
        raise ValueError(f"kind {_shown(kind)} is not one of {', '.join(CUSTOMER_KINDS)}")
    email = values["email"] or None
    if email:
        try:
            _EMAIL(email)
        except ValidationError:
            raise ValueError(f"email {_shown(email)} is not an e-mail address") from None
    phone = values["phone"] or None
    if phone and not _PHONE.match(phone):
        raise ValueError(f"phone {_shown(phone)} is not a phone number")
    language = _import_language(values["language"]) if values["language"] else "en"
    return {"external_ref": ref, "name": name, "kind": kind, "email": email, "phone": phone,
            "language": language}


def _column(name: str) -> str:
    # A column's name from the file, as a reason shows it: control characters
    # must not reach the terminal, nor a name of pages.
    return name if name.isprintable() and len(name) <= 40 else _shown(name)


def _header_problem(header: list[str]) -> str | None:
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        return f"header lacks column(s): {', '.join(missing)}"
    repeated = [_column(c) for c, n in Counter(c for c in header if c.strip()).items() if n > 1]
    if repeated:  # which of them would count is anyone's guess
        return f"header repeats column(s): {', '.join(repeated)}"
    return None


def _row_of(fields: list[str], header: list[str]) -> dict:
    if len(fields) != len(header):
        raise ValueError(f"row has {len(fields)} fields, the header has {len(header)}")
    for n, (column, value) in enumerate(zip(header, fields), 1):
        if len(value) > IMPORT_FIELD_LIMIT:
            name = _column(column) if column.strip() else f"field {n}"
            raise ValueError(f"{name} is longer than {IMPORT_FIELD_LIMIT} characters")
    return dict(zip(header, fields))


def import_customers(lines: Iterable[str] | str, progress=None) -> tuple[int, int, list[tuple[int, str]]]:
    """Import customers from CSV with the header ``IMPORT_COLUMNS`` (in any
    order; other columns are read but not imported).

    ``lines``: the CSV text, or its lines as they are read (a text file
    opened with ``newline=""``, or ``utf8_lines(binary)``); read row by row.
    Rows whose ``external_ref`` exists update that customer. Returns
    ``(created, updated, errors)`` where errors are ``(line number, reason)``,
    the line a row starts on; good rows are imported even when others are
    bad. A bad row: one ``parse_import_row`` refuses, a repeated
    ``external_ref``, a field count other than the header's, a field over
    ``IMPORT_FIELD_LIMIT`` characters, or one csv cannot read. A header
    lacking or repeating a column is an error of line 1 and nothing is
    imported; so is an exception from ``lines`` (e.g. ``NotUtf8``), which
    propagates. ``progress(1)`` is called after each row.
    """
    if isinstance(lines, str):
        lines = io.StringIO(lines, newline="")
    reader = csv.reader(lines)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        return 0, 0, [(1, f"header cannot be read as CSV: {exc}")]
    problem = _header_problem(header)
    if problem:
        return 0, 0, [(1, problem)]
    created = updated = 0
    errors, seen = [], set()
    with UnitOfWork() as uow:
        while True:
            line = reader.line_num + 1  # where the next row starts
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                # E.g. a field over csv's own (process-wide) limit, far above
                # ours. The reader goes on at the next line: exact for a row on
                # one line; the rest of a quoted field over several lines is
                # read as rows of its own, which are refused in turn.
                errors.append((line, f"cannot be read as CSV: {exc}"))
                fields = []
            if fields:  # not a blank line
                try:
                    values = parse_import_row(_row_of(fields, header))
                    if values["external_ref"] in seen:
                        raise ValueError(f"external_ref {_shown(values['external_ref'])} repeats an earlier row")
                except ValueError as exc:
                    errors.append((line, str(exc)))
                else:
                    seen.add(values["external_ref"])
                    if _save(values):
                        updated += 1
                    else:
                        created += 1
            if progress:
                progress(1)
        uow.commit()
    return created, updated, errors


def _save(values: dict) -> bool:
    """Update the customer with this ``external_ref`` (True), else add one (False)."""
    existing = db.session.scalar(select(Customer).where(Customer.external_ref == values["external_ref"]))
    if existing is None:
        db.session.add(Customer(**values))
        return False
    for key, value in values.items():
        setattr(existing, key, value)
    return True
