"""Absolute links for customers, usable in requests and in background jobs."""
from __future__ import annotations

from flask import current_app, has_request_context, url_for

from service.usecases import tracking


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` (a Flask endpoint name, e.g. a
    plugin page's) with ``values``: from the request in a request, from
    ``PUBLIC_URL`` in a job or command."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    # In a job there is no request: build against PUBLIC_URL.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


def tracking_url(token: str) -> str:
    """The customer's page for a ticket: the web tracking page once the web UI
    is installed, the public API's view of the ticket until then."""
    endpoint = "web.track" if "web.track" in current_app.view_functions else "public.show_ticket"
    return external_url(endpoint, token=token)


def answer_url(token: str, answer: str) -> str:
    """Where the customer accepts or rejects a resolution (``answer``:
    accept|reject): the web page when installed, else the tracking link."""
    if "web.answer" in current_app.view_functions:
        return external_url("web.answer", token=token, answer=answer)
    return tracking_url(token)


def customer_links(ticket, with_answer: bool = False) -> list[tuple[str, str]]:
    """``(label key, url)`` pairs for a mail to the customer about ``ticket``."""
    token = tracking.mail_token(ticket)
    links = [("track", tracking_url(token))]
    if with_answer:
        links = [("accept", answer_url(token, "accept")), ("reject", answer_url(token, "reject"))] + links
    return links
