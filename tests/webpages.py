"""Helpers for tests of the web pages, importable by tests (a ``conftest``
module is not: several directories have one)."""
from __future__ import annotations

import re

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    """The CSRF token in a page's first form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)
