"""Browser tests: Debian's Chromium driven by Playwright against kefu served
on a loopback port by a real HTTP server thread (stopped afterwards).

Never ``playwright install``: the browser is /usr/bin/chromium
(scripts/system-deps.sh installs it).
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from testdb import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium instead of a browser Playwright would download."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


class LiveServer:
    """kefu served by werkzeug on 127.0.0.1 in a thread; ``url`` is its base."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="kefu-live", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app, departments):
    """The test's app (migrated database, demo departments) served on a free loopback port."""
    app.config["PUBLIC_URL"] = "http://127.0.0.1"
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def demo_server(app):
    """The demo's data (tests/pagecatalogue.py) served on a free loopback port:
    ``(server, catalogue)``. Instead of ``live_server``: the demo brings its
    own departments."""
    from pagecatalogue import seed

    catalogue = seed()
    app.config["PUBLIC_URL"] = "http://127.0.0.1"
    with LiveServer(app) as server:
        yield server, catalogue


@pytest.fixture
def shoot():
    """``shoot(page, name)`` saves a full-page screenshot under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
