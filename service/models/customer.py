"""Customers: the people and companies who complain and ask. Private data."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.models.base import UTCDateTime, utcnow

CUSTOMER_KINDS = ("person", "company")


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="person")
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(10), default="en")
    external_ref: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # A duplicate merged into another record stays, pointing at the record
    # that took its tickets and data, so that old links and ids still lead
    # somewhere (service.usecases.merging). Lists leave merged records out.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_at = mapped_column(UTCDateTime, nullable=True)


class CustomerNote(db.Model):
    """A staff member's note on a customer (not on a ticket): what to know
    before the next call. Private to staff."""

    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_customer_notes_customer_id_id", "customer_id", "id"),)
