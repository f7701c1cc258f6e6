"""The ``admin_pages`` hook: a plugin's admin page is listed on the console's
admin index and in the admin navigation; an answer that raises or is
malformed (a missing key, a link off this site) is left out, counted on the
plugins page, and the page still renders."""
from __future__ import annotations

import re

from service import hookimpl


class GoodPage:
    @hookimpl
    def admin_pages(self, staff):
        assert staff.has_role("admin")  # the admin viewing the page is given
        return {"key": "acme_accounts", "title": "Key accounts", "url": "/console/admin/acme/accounts",
                "summary": "Who owns which key account"}


class Raises:
    @hookimpl
    def admin_pages(self, staff):
        raise RuntimeError("accounts service down")


class Malformed:
    @hookimpl
    def admin_pages(self, staff):
        return [{"key": "no_url", "title": "No address"},
                {"key": "elsewhere", "title": "Phishing", "url": "https://evil.example/admin"},
                {"key": "scheme_relative", "title": "Also elsewhere", "url": "//evil.example/admin"}]


def test_hook_admin_pages(kefu_plugins, client, staff_login):
    kefu_plugins.register(GoodPage(), name="acme")
    kefu_plugins.register(Raises(), name="broken_admin")
    kefu_plugins.register(Malformed(), name="malformed_admin")
    staff_login("admin")
    index = client.get("/console/admin/")
    assert index.status_code == 200
    listing = re.search(r'<ul class="plain admin-index" id="admin-pages">.*?</ul>', index.text, re.DOTALL).group(0)
    assert '<a href="/console/admin/acme/accounts">Key accounts</a>' in listing
    assert "Who owns which key account" in listing
    # The builtin plugins' pages are listed the same way.
    assert 'href="/console/admin/sla/policy"' in listing and 'href="/console/admin/webhooks/"' in listing
    for left_out in ("No address", "Phishing", "Also elsewhere", "evil.example"):
        assert left_out not in index.text
    # Every admin page's navigation has it, a core page's and a plugin's alike.
    for path in ("/console/admin/staff", "/console/admin/sla/policy"):
        nav = re.search(r'<nav class="admin-nav".*?</nav>', client.get(path).text, re.DOTALL).group(0)
        assert 'href="/console/admin/acme/accounts"' in nav
    plugins = client.get("/console/admin/plugins").text
    assert re.search(r"<tr><td>broken_admin</td><td><code>admin_pages</code></td><td>\d+</td>", plugins)
    assert "RuntimeError: accounts service down" in plugins
    assert re.search(r"<tr><td>malformed_admin</td><td><code>admin_pages</code></td>", plugins)
    # The plugin's own section on the plugins page says it failed.
    section = re.search(r'<section class="card" id="settings-broken_admin".*?</section>', plugins, re.S).group(0)
    assert "Failures recorded: " in section


def test_admin_pages_are_not_asked_for_staff_below_admin(kefu_plugins, client, staff_login):
    calls = []

    class Counting:
        @hookimpl
        def admin_pages(self, staff):
            calls.append(staff.role)

    kefu_plugins.register(Counting(), name="counting")
    staff_login("supervisor")
    assert client.get("/console/admin/").status_code == 403
    assert client.get("/console/").status_code == 200
    assert calls == []
