"""Helpers for the web UI tests (Flask test client, real CSRF tokens)."""
from __future__ import annotations

import re

import pytest
from webpages import csrf_of


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
