"""The README's screenshots, from what `make run` serves.

Makes a fresh instance folder (SQLite) the way `make run` does (``kefu db
upgrade``, ``kefu demo``), serves it with ``kefu run`` on a free loopback
port, signs in as the demo supervisor in Debian's Chromium (Playwright) and
saves the shots of ``SHOTS`` (each page in the variants README.md shows:
English or Chinese, 1366 or 390 px) under ``docs/screenshots/``. The server is stopped by its pid.

    .venv/bin/python scripts/screenshots.py            # every page
    .venv/bin/python scripts/screenshots.py dashboard  # the pages named
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
KEFU = str(Path(sys.executable).with_name("kefu"))
CHROMIUM = "/usr/bin/chromium"
# name: path (None: the first customer of the list sorted by value, the biggest spender)
PAGES = {
    "dashboard": "/console/dashboard",
    "customers": "/console/customers",
    "customer-profile": None,
    "queue": "/console/queue/all?status=new&status=confirmed&status=in_progress&status=waiting_on_customer",
    "ticket": None,
    "bell": "/console/notifications",
}
# file name suffix: (console language, window width)
VARIANTS = {"": ("en", 1366), "-zh": ("zh_CN", 1366), "-zh-phone": ("zh_CN", 390)}
# the shots README.md shows
SHOTS = {"dashboard": ("", "-zh"), "customers": ("-zh",), "customer-profile": ("", "-zh-phone"),
         "queue": ("", "-zh"), "ticket": ("", "-zh", "-zh-phone"), "bell": ("", "-zh")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_serving(port: int, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit("kefu run stopped before serving")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("kefu run did not serve within two minutes")


def _profile_path(page, base: str) -> str:
    page.goto(base + "/console/customers?sort=tier_sla.value")  # the biggest spender first
    href = page.locator("main table tbody a[href*='/console/customers/']").first.get_attribute("href")
    return href


def _ticket_path(page, base: str) -> str:
    # A ticket being handled whose customer wrote last: a conversation with
    # both sides, plugin panels and an SLA clock running.
    page.goto(base + "/console/queue/all?status=in_progress&sort=activity&dir=desc")
    return page.locator("main table tbody td.number a").first.get_attribute("href")


FINDERS = {"customer-profile": _profile_path, "ticket": _ticket_path}


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kefu-shots-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")} | {"KEFU_INSTANCE_PATH": folder}
        subprocess.run([KEFU, "db", "upgrade"], env=env, check=True, capture_output=True)
        started = time.monotonic()
        subprocess.run([KEFU, "demo"], env=env, check=True)
        print(f"demo loaded in {time.monotonic() - started:.1f} s")
        port = _free_port()
        env["KEFU_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([KEFU, "run", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_serving(port, server)
            _shoot(f"http://127.0.0.1:{port}", names)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


def _shoot(base: str, names: list[str]) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            for suffix, (language, width) in VARIANTS.items():
                wanted = [name for name in names if suffix in SHOTS[name]]
                if not wanted:
                    continue
                context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
                page = context.new_page()
                page.goto(base + "/console/login")
                page.locator("#email").fill("supervisor@kefu.demo")
                page.locator("#password").fill("demo-super-pass")
                page.locator("#sign-in").click()
                page.wait_for_url(lambda url: "/console/login" not in url)
                _set_language(page, base, language)
                for name in wanted:
                    path = PAGES[name] or FINDERS[name](page, base)
                    page.goto(base + path)
                    target = OUT / f"{name}{suffix}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print("saved", target.relative_to(ROOT))
                context.close()
        finally:
            browser.close()


def _set_language(page, base: str, language: str) -> None:
    page.goto(base + "/console/settings")
    page.locator("#language").select_option(language)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


if __name__ == "__main__":
    main(sys.argv[1:] or list(PAGES))
