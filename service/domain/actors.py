"""Who did something: staff, a customer, the system, or a plugin."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The author of a change, as written to the history and passed to hooks.

    ``type`` is ``staff``, ``customer``, ``system`` or ``plugin``; ``role`` is
    the staff role (None for others).
    """

    type: str
    id: int | None = None
    name: str | None = None
    role: str | None = None

    @classmethod
    def staff(cls, staff) -> "Actor":
        return cls("staff", staff.id, staff.name, staff.role)

    @classmethod
    def customer(cls, customer) -> "Actor":
        return cls("customer", customer.id, customer.name)


SYSTEM = Actor("system", None, "kefu")
