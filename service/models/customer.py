"""Customers: the people and companies who complain and ask. Private data."""
from __future__ import annotations

from sqlalchemy import String
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
