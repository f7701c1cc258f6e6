"""Fragments drawn once per distinct content (service/web/fragments.py): the
console's sidebar and keyboard help are kept per process, keyed by the whole
context they are drawn from, so a change in what they show draws them again
and nothing kept is ever shown out of date."""
from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from service.extensions import db
from service.web.fragments import FragmentCache, freeze, render_fragment


def _sidebar(html: str) -> str:
    start = html.index('<nav id="console-nav"')
    return html[start:html.index("</nav>", start)]


def _count(html: str, queue: str) -> int:
    return int(re.search(rf'id="side-queue-{queue}"[^>]*><span class="side-label">[^<]*</span> '
                         rf'<span class="count">(\d+)</span>', _sidebar(html)).group(1))


def test_the_store_keeps_the_most_recently_used_within_its_size():
    cache = FragmentCache(2)
    cache.put("a", Markup("A"))
    cache.put("b", Markup("B"))
    assert cache.get("a") == "A"  # "a" is now the most recently used
    cache.put("c", Markup("C"))
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    assert len(cache) == 2


def test_a_context_freezes_into_a_key_that_follows_every_value():
    one = freeze({"queues": [{"name": "mine", "count": 3}], "here": None})
    assert one == freeze({"here": None, "queues": [{"count": 3, "name": "mine"}]})  # order does not matter
    assert one != freeze({"queues": [{"name": "mine", "count": 4}], "here": None})
    hash(one)
    with pytest.raises(TypeError):  # an object whose text may not say all it draws
        freeze({"when": object()})


def test_a_fragment_is_drawn_once_per_context_and_language(app):
    drawn = []

    def count(sender, template, context, **extra):
        drawn.append(template.name)

    from flask import template_rendered
    template_rendered.connect(count, app)
    try:
        with app.test_request_context("/"):
            from flask_babel import force_locale
            first = render_fragment("web/console/_shortcut_help.html")
            again = render_fragment("web/console/_shortcut_help.html")
            with force_locale("zh_CN"):
                chinese = render_fragment("web/console/_shortcut_help.html")
    finally:
        template_rendered.disconnect(count, app)
    assert first is again  # kept: the same HTML object, not drawn again
    assert drawn == ["web/console/_shortcut_help.html"] * 2  # once in English, once in Chinese
    assert "Keyboard shortcuts" in first and "键盘快捷键" in chinese


def test_the_sidebar_follows_a_new_count_at_once(client, staff_login, file_ticket):
    staff_login("agent")
    before = _count(client.get("/console/customers").text, "unassigned")
    file_ticket(subject="One more for nobody")
    assert _count(client.get("/console/customers").text, "unassigned") == before + 1


def test_the_sidebar_marks_the_current_page_though_kept(client, staff_login):
    staff_login("supervisor")
    dashboard = _sidebar(client.get("/console/dashboard").text)
    customers = _sidebar(client.get("/console/customers").text)
    assert re.search(r'id="nav-dashboard" aria-current="page"', dashboard)
    assert 'id="nav-dashboard" aria-current' not in customers
    assert re.search(r'id="nav-customers" aria-current="page"', customers)


def test_two_staff_members_see_their_own_sidebar(client, staff_login):
    staff_login("agent")
    agent = _sidebar(client.get("/console/customers").text)
    client.post("/console/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/console/customers").text).group(1)})
    staff_login("admin")
    admin = _sidebar(client.get("/console/customers").text)
    assert 'id="nav-admin"' in admin and 'id="nav-admin"' not in agent


def test_a_saved_view_appears_in_the_sidebar_at_once(client, staff_login):
    from service.models import SavedView
    me = staff_login("agent")
    assert "side-views" not in _sidebar(client.get("/console/customers").text)
    db.session.add(SavedView(staff_id=me.id, name="Urgent ones", queue="mine", query="priority=urgent"))
    db.session.commit()
    assert "Urgent ones" in _sidebar(client.get("/console/customers").text)


def test_size_zero_draws_every_time(app):
    from flask import template_rendered

    from service.web import fragments
    app.extensions.pop("kefu_fragments", None)
    app.config["FRAGMENT_CACHE_SIZE"] = 0
    fragments.init_app(app)
    assert "kefu_fragments" not in app.extensions
    drawn = []

    def count(sender, template, context, **extra):
        drawn.append(template.name)

    with template_rendered.connected_to(count, app), app.test_request_context("/"):
        first = render_fragment("web/console/_shortcut_help.html")
        again = render_fragment("web/console/_shortcut_help.html")
    assert "Keyboard shortcuts" in first and first == again
    assert drawn == ["web/console/_shortcut_help.html"] * 2  # drawn each time, nothing kept
