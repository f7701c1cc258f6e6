"""The ``console_links`` hook: a plugin's link is in the console's main
navigation of every console page, with its count as a badge when above 0;
an answer that raises or is malformed (a missing key, a link off this site)
is left out, counted on the plugins page, and the page still renders."""
from __future__ import annotations

import re

from service import hookimpl


class Accounts:
    @hookimpl
    def console_links(self, staff):
        if staff.role != "supervisor":  # the staff member viewing the page is given
            return None
        return [{"key": "acme_accounts", "label": "Key accounts", "url": "/console/acme/accounts", "count": 3},
                {"key": "acme_quiet", "label": "Quiet ones", "url": "/console/acme/quiet"}]


class Raises:
    @hookimpl
    def console_links(self, staff):
        raise RuntimeError("accounts service down")


class Malformed:
    @hookimpl
    def console_links(self, staff):
        return [{"key": "no_url", "label": "No address"},
                {"key": "elsewhere", "label": "Phishing", "url": "https://evil.example/x"},
                {"key": "scheme_relative", "label": "Also elsewhere", "url": "//evil.example/x"},
                {"key": "bad_count", "label": "Bad count", "url": "/console/x", "count": "many"}]


def _nav(html: str) -> str:
    return re.search(r'<nav id="console-nav"[^>]*>.*?</nav>', html, re.DOTALL).group(0)


def test_hook_console_links(kefu_plugins, client, staff_login):
    kefu_plugins.register(Accounts(), name="acme")
    kefu_plugins.register(Raises(), name="broken_links")
    kefu_plugins.register(Malformed(), name="malformed_links")
    staff_login("supervisor")
    for path in ("/console/", "/console/customers", "/console/dashboard"):
        page = client.get(path)
        assert page.status_code == 200, path
        nav = _nav(page.text)
        assert re.search(r'<a href="/console/acme/accounts" data-link="acme_accounts">Key accounts '
                         r'<span class="badge" aria-label="3 new">3</span></a>', nav), nav
        assert '<a href="/console/acme/quiet" data-link="acme_quiet">Quiet ones</a>' in nav  # no count, no badge
        for left_out in ("No address", "Phishing", "Also elsewhere", "evil.example", "Bad count"):
            assert left_out not in nav
    plugins = client.get("/console/admin/plugins")
    assert plugins.status_code == 403  # a supervisor; the failures are for admins to read
    with client.session_transaction() as session:  # signed out: the next sign-in is the admin's
        session.clear()
    staff_login("admin")
    assert "Key accounts" not in _nav(client.get("/console/").text)  # the plugin answered None for an admin
    plugins = client.get("/console/admin/plugins").text
    assert re.search(r"<tr><td>broken_links</td><td><code>console_links</code></td><td>\d+</td>", plugins)
    assert re.search(r"<tr><td>malformed_links</td><td><code>console_links</code></td>", plugins)
