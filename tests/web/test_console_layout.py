"""The console's frame (web/console/layout.html, service/web/console_frame.py):
the sidebar's queues and counts, the header's search box, the links each role
gets, the phone's menu (no script needed), and the scripts served from the
package (htmx, console.js) - never a CDN."""
from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import event

from service.extensions import db
from service.web.queues import queue_counts

STATIC = Path(__file__).resolve().parents[2] / "service" / "static"
HTMX_VERSION = "2.0.11"


def _sidebar(html: str) -> str:
    start = html.index('<nav id="console-nav"')
    return html[start:html.index("</nav>", start)]


def _side_counts(html: str) -> dict[str, int]:
    return {name: int(count) for name, count in re.findall(
        r'id="side-queue-(\w+)"[^>]*><span class="side-label">[^<]*</span> <span class="count">(\d+)</span>',
        _sidebar(html))}


def test_the_sidebar_lists_the_queues_with_the_counts_of_the_queue_page(client, staff_login, file_ticket, agent):
    me = staff_login("agent", department="logistics")
    mine = file_ticket(subject="Mine")["number"]
    file_ticket(subject="Nobody's")
    client.patch(f"/api/v1/tickets/{mine}", headers=agent, json={"assignee": me.id, "version": 1})
    for path in ("/console/", f"/console/tickets/{mine}", "/console/settings", "/console/customers"):
        page = client.get(path)
        assert page.status_code == 200, path
        counts = _side_counts(page.text)
        assert counts == queue_counts(me), path
        assert counts["mine"] == 1 and counts["unassigned"] == 1 and counts["all"] == 2
        assert "remedies" not in counts  # agents do not approve remedies
    # The current queue is marked, on its own page only.
    queue = client.get("/console/queue/unassigned").text
    assert re.search(r'id="side-queue-unassigned" aria-current="page"', queue)
    assert 'aria-current="page"' not in _sidebar(client.get(f"/console/tickets/{mine}").text).split("side-pages-h")[0]


def test_counting_the_queues_is_done_once_per_page(app, client, staff_login, file_ticket):
    staff_login("agent")
    number = file_ticket()["number"]
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get(f"/console/tickets/{number}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # queue_counts' shape: a count over the subquery of a queue's ticket ids.
    counts = [s for s in statements if re.match(r"\s*SELECT count\(\*\).*?FROM \(SELECT tickets\.id", s, re.S)]
    # One count per queue an agent sees (mine, department, unassigned, at risk, all), not one per use.
    assert len(counts) == 5, counts


def _count_statements(client, path: str) -> tuple[int, str]:
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    return len([s for s in statements if re.match(r"\s*SELECT count\(\*\).*?FROM \(SELECT tickets\.id", s, re.S)]), page.text


def test_the_counts_are_kept_until_a_ticket_changes(app, client, staff_login, file_ticket, agent):
    me = staff_login("agent")
    number = file_ticket()["number"]
    counted, _page = _count_statements(client, "/console/settings")
    assert counted == 5
    # Nothing changed: the next pages reuse the counts (CONSOLE_COUNTS_SECONDS).
    counted, page = _count_statements(client, "/console/customers")
    assert counted == 0 and _side_counts(page)["unassigned"] == 1
    # A ticket filed or changed anywhere counts afresh at once.
    file_ticket(subject="Another")
    counted, page = _count_statements(client, "/console/settings")
    assert counted == 5 and _side_counts(page)["unassigned"] == 2
    client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"assignee": me.id, "version": 1})
    counts = _side_counts(client.get("/console/settings").text)
    assert (counts["mine"], counts["unassigned"]) == (1, 1)
    # Without the cache every page counts.
    app.config["CONSOLE_COUNTS_SECONDS"] = 0
    try:
        assert _count_statements(client, "/console/settings")[0] == 5
        assert _count_statements(client, "/console/settings")[0] == 5
    finally:
        app.config["CONSOLE_COUNTS_SECONDS"] = 30


@pytest.mark.parametrize("role, present, absent", [
    ("agent", {"nav-customers", "nav-new-ticket", "nav-macros"}, {"nav-dashboard", "nav-admin", "side-queue-remedies"}),
    ("supervisor", {"nav-customers", "nav-new-ticket", "nav-macros", "nav-dashboard", "side-queue-remedies"},
     {"nav-admin"}),
    ("admin", {"nav-customers", "nav-new-ticket", "nav-macros", "nav-dashboard", "nav-admin", "side-queue-remedies"},
     set()),
    # Finance staff decide remedies; they neither file tickets nor reply.
    ("finance", {"nav-customers", "side-queue-remedies"},
     {"nav-dashboard", "nav-admin", "side-queue-mine", "nav-new-ticket", "nav-macros"}),
])
def test_each_role_gets_its_links(client, staff_login, role, present, absent):
    staff_login(role)
    page = client.get("/console/settings").text
    ids = set(re.findall(r'id="([\w-]+)"', _sidebar(page)))
    assert present <= ids and not (absent & ids), ids
    # Everyone: settings under their name, sign out (ids other tests rely on), the search box.
    assert 'id="nav-settings"' in page and 'id="logout"' in page and 'id="global-search"' in page


def test_the_search_box_asks_the_search_page_and_keeps_the_words(client, staff_login):
    staff_login("agent")
    page = client.get("/console/").text
    form = re.search(r'<form class="global-search" role="search" method="get" action="([^"]+)">(.*?)</form>',
                     page, re.S)
    assert form and form.group(1) == "/console/search"
    assert re.search(r'<label for="global-search" class="sr-only">Search tickets</label>', form.group(2))
    assert re.search(r'<input id="global-search" name="q" type="search"', form.group(2))
    assert 'aria-keyshortcuts="/ s"' in form.group(2)
    # Not on the pages of customers, nor before signing in.
    client.post("/console/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
    assert 'id="global-search"' not in client.get("/console/login").text
    assert 'id="global-search"' not in client.get("/").text


def test_the_phone_menu_works_without_script(client, staff_login):
    staff_login("agent")
    page = client.get("/console/").text
    # A checkbox, its label, then the sidebar: siblings, so CSS alone opens it.
    toggle = page.index('<input type="checkbox" id="menu-toggle" class="menu-toggle" aria-controls="console-nav">')
    label = page.index('<label for="menu-toggle" class="menu-button">')
    nav = page.index('<nav id="console-nav" class="sidebar"')
    assert toggle < label < nav
    assert page.count("</div>", toggle, nav) == 0  # nothing closes between them: still siblings
    css = (STATIC / "kefu.css").read_text(encoding="utf-8")
    assert re.search(r"\.sidebar \{ display:none;", css)
    assert ".menu-toggle:checked ~ .sidebar { display:block; }" in css
    wide = css[css.index("@media (min-width: 56rem)"):]
    assert ".menu-button, .menu-toggle { display:none; }" in wide and re.search(r"\.sidebar \{ display:block;", wide)
    assert ".menu-toggle:focus-visible + .menu-button { outline:3px solid var(--focus)" in css


def test_htmx_and_the_console_script_come_from_the_package(client, staff_login):
    staff_login("agent")
    page = client.get("/console/").text
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page
    assert '<script src="/static/js/console.js" defer></script>' in page
    assert not re.search(r'<script[^>]+src="(https?:)?//', page)  # no CDN
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
    settings = json.loads(unescape(config.group(1)))
    # The CSP forbids inline styles and eval; private pages are never kept in the browser's storage.
    assert settings["includeIndicatorStyles"] is False and settings["allowEval"] is False
    assert settings["historyCacheSize"] == 0 and settings["selfRequestsOnly"] is True
    # htmx's first matching rule (a RegExp test on the status) decides: a refused form's page
    # (409, 422) is swapped in as an answer, not an error; 204 swaps nothing.
    def rule(status):
        return next(r for r in settings["responseHandling"] if re.search(r["code"], status))
    assert rule("200")["swap"] and rule("204")["swap"] is False
    for status in ("409", "422"):
        assert rule(status)["swap"] is True and rule(status)["error"] is False, status
    assert rule("400")["error"] is True and rule("500")["error"] is True
    for path, needle in (("/static/vendor/htmx.min.js", f'version:"{HTMX_VERSION}"'),
                         ("/static/js/console.js", 'var QUEUE_KEY = "kefu.queue"')):
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "text/javascript", (path, response.mimetype)
        assert needle in response.text
        response.close()
    licence = (STATIC / "vendor" / "htmx.LICENSE.txt").read_text(encoding="utf-8")
    assert "Zero-Clause BSD" in licence
    assert HTMX_VERSION in (STATIC / "vendor" / "README.txt").read_text(encoding="utf-8")
    # The customers' pages do without them.
    assert "console.js" not in client.get("/").text and "htmx" not in client.get("/").text


def test_console_js_writes_only_texts_the_layout_translated():
    # Texts people read come translated from the layout (the help dialog's
    # data attributes), never from the script: the script writes text in one
    # place (the live region) and only what helpText() read from the page.
    script = (STATIC / "js" / "console.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)
    writes = re.findall(r"\.(?:textContent|innerText|innerHTML|outerHTML)\s*=\s*([^;]+);", code)
    assert sorted(writes) == ['""', "text"], writes
    assert not re.search(r"\b(alert|confirm|prompt)\(|insertAdjacentHTML|document\.write", code)
    said = re.findall(r"(?<!function )announce\(([^;]+)\);", code)
    assert said and all(arg.startswith("helpText(") for arg in said), said


@pytest.mark.parametrize("language, title, texts", [
    ("en", "Keyboard shortcuts", ("Write a public reply", "This is the last ticket of the queue.")),
    ("zh_CN", "键盘快捷键", ("撰写公开回复", "这已是队列中的最后一张工单。")),
])
def test_the_shortcuts_help_is_in_the_page_in_its_language(client, staff_login, language, title, texts):
    staff_login("agent", language=language)
    page = client.get("/console/").text
    dialog = page[page.index('<dialog id="shortcut-help"'):page.index("</dialog>")]
    assert f'<h2 id="shortcut-help-h">{title}</h2>' in dialog
    for text in texts:
        assert text in dialog
    assert 'id="close-shortcuts"' in dialog and '<form method="dialog">' in dialog
    # The button that opens it without a key stays hidden until the script is there.
    assert re.search(r'<button type="button" class="link side-keys" id="open-shortcuts" aria-keyshortcuts="\?" hidden>',
                     page)
