"""Staff for a test: the reference member of each role, API tokens, and a
console client signed in as one of them."""
from __future__ import annotations

import re

from service.testing.database import PASSWORD, Reference


def csrf_of(html: str) -> str:
    """The CSRF token in a page's first form (for posting console forms)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise AssertionError("the page has no CSRF token")
    return match.group(1)


class StaffDesk:
    """The ``kefu_staff`` fixture: ``kefu_staff.agent`` (also ``supervisor``,
    ``admin``, ``finance``) is that role's reference member;
    ``kefu_staff.headers("admin")`` the ``Authorization`` header of an API
    token of theirs; ``kefu_staff.create(role, ...)`` one more member."""

    def __init__(self, app, reference: Reference):
        self.app, self.reference = app, reference
        self._tokens: dict[int, str] = {}
        self._count = 0

    def member(self, role: str = "agent"):
        """The reference staff member of ``role`` (created when the
        reference data has none of that role)."""
        from sqlalchemy import func, select

        from service.extensions import db
        from service.models import Staff

        found = db.session.scalar(select(Staff).where(func.lower(Staff.email) == self.reference.email(role)))
        if found is not None:
            return found
        department = self.reference.staff_department if self.reference.departments else None
        staff, _headers = self.create(role, department=department, email=self.reference.email(role),
                                      name=f"Test {role.title()}")
        return staff

    agent = property(lambda self: self.member("agent"))
    supervisor = property(lambda self: self.member("supervisor"))
    admin = property(lambda self: self.member("admin"))
    finance = property(lambda self: self.member("finance"))

    def headers(self, who="agent") -> dict:
        """``{"Authorization": "Bearer ..."}`` for ``who`` (a role, meaning
        its reference member, or a Staff); one token per member per test."""
        from service.usecases.auth import issue_token

        staff = self.member(who) if isinstance(who, str) else who
        if staff.id not in self._tokens:
            self._tokens[staff.id] = issue_token(staff, label="test")
        return {"Authorization": f"Bearer {self._tokens[staff.id]}"}

    def create(self, role: str = "agent", *, department: str | None = None, email: str | None = None,
               name: str | None = None, password: str | None = PASSWORD, language: str = "en"):
        """A new staff member through the real use case; ``(Staff, headers)``."""
        from service.usecases.staff import create_staff, update_own_settings

        self._count += 1
        staff, token = create_staff(email or f"{role}{self._count}@staff.kefu.test",
                                    name or f"{role.title()} {self._count}", role, department, password=password)
        if language != staff.language:
            update_own_settings(staff, language, staff.timezone)
        self._tokens[staff.id] = token
        return staff, {"Authorization": f"Bearer {token}"}

    def console(self, who="agent", language: str | None = None):
        """A new test client signed in to the console as ``who`` (a role or a
        Staff with the password ``PASSWORD``); ``client.staff`` is who."""
        from service.usecases.staff import update_own_settings

        staff = self.member(who) if isinstance(who, str) else who
        if language is not None and staff.language != language:
            update_own_settings(staff, language, staff.timezone)
        client = self.app.test_client()
        page = client.get("/console/login")
        response = client.post("/console/login", data={"email": staff.email, "password": PASSWORD,
                                                        "csrf_token": csrf_of(page.text)})
        if response.status_code != 302:
            raise AssertionError(f"{staff.email} could not sign in: {response.status_code}")
        client.staff = staff
        return client
