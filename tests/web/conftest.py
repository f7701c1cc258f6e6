"""Helpers for the web UI tests (Flask test client, real CSRF tokens)."""
from __future__ import annotations

import re

import pytest
from webpages import PASSWORD, csrf_of


@pytest.fixture
def staff_login(app, departments, client):
    """``staff_login(role, language="en")`` creates a staff member with a password,
    signs the test client in as them, and returns the Staff."""
    from service.extensions import db
    from service.usecases.staff import create_staff

    counter = iter(range(1, 1000))

    def login(role="agent", language="en", department="after_sales"):
        n = next(counter)
        staff, _token = create_staff(f"web-{role}{n}@kefu.test", f"Web {role.title()} {n}", role, department,
                                     password=PASSWORD)
        staff.language = language
        db.session.commit()
        page = client.get("/console/login")
        response = client.post("/console/login", data={"email": staff.email, "password": PASSWORD,
                                                        "csrf_token": csrf_of(page.text)})
        assert response.status_code == 302, response.text
        return staff

    return login


@pytest.fixture
def file_on_form(client):
    """``file_on_form(**fields)`` files the public form; returns (number, tracking path)."""

    def file(**fields):
        page = client.get("/")
        data = {"kind": "complaint", "category": "other", "subject": "Washer not delivered",
                "description": "Ordered two weeks ago.", "name": "Wang Fang", "email": "wang@example.test",
                "csrf_token": csrf_of(page.text), **fields}
        response = client.post("/", data=data)
        assert response.status_code == 302, response.text
        done = client.get(response.headers["Location"])
        number = re.search(r'id="ticket-number">([^<]+)<', done.text).group(1)
        path = re.search(r'id="tracking-link" href="http://localhost(/track/[^"]+)"', done.text).group(1)
        return number, path

    return file
