"""Every form control on every page has a label, and pages have one h1 and a language."""
from __future__ import annotations

from html.parser import HTMLParser



class Controls(HTMLParser):
    """Collects form controls, label targets and h1 count of a page."""

    def __init__(self):
        super().__init__()
        self.controls, self.labelled, self.h1, self.lang = [], set(), 0, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)


def _unlabelled(html: str) -> tuple[list, "Controls"]:
    parser = Controls()
    parser.feed(html)
    return [c for c in parser.controls if c.get("id") not in parser.labelled and not c.get("aria-label")], parser


def test_every_control_has_a_label(client, staff_login, file_on_form, agent, act):
    number, path = file_on_form()
    for action, fields in (("confirm", {"department": "logistics"}), ("start", {}), ("resolve", {"resolution": "ok"})):
        act(agent, number, action, **fields)
    visitor = ["/", path, path + "/reject", path + "/accept", "/console/login"]
    staff = ["/console/", "/console/queue/all", f"/console/tickets/{number}", "/console/settings",
             "/console/dashboard", "/console/admin/staff", "/console/admin/categories", "/console/admin/jobs"]
    for url in visitor + staff:
        if url == staff[0]:
            staff_login("admin")
        response = client.get(url)
        assert response.status_code == 200, url
        missing, parser = _unlabelled(response.text)
        assert missing == [], f"{url}: controls without a label: {missing}"
        assert parser.h1 == 1, url
        assert parser.lang in ("en", "zh-CN"), url
