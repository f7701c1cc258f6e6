"""Signing a staff member in to the console in the browser, as the login page asks."""
from __future__ import annotations

from webpages import PASSWORD


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    """Open the console's login page at ``base`` and sign in as ``email``
    (the caller then waits for the page it expects)."""
    page.goto(base + "/console/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#sign-in").click()
