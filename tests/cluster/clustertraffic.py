"""The cluster test's load: a fixed, seeded stream of complaints, each followed
by staff transitions, with attachments uploaded on one node and downloaded on
the other; and a reader polling the customers' tracking views.

Every request is recorded (node, path, status, start and end). A request that
got a connection error or a 503 is tried again, as a browser or a client with
a retry policy would; a 500 never is: it is a bug, and it is recorded.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import requests

RETRY_FOR = 90.0  # seconds one request is retried (503, connection errors) before it is given up


@dataclass
class Call:
    """One HTTP request as it went: ``status`` None for a connection error."""

    who: str
    node: str
    method: str
    path: str
    status: int | None
    error: str
    started: float
    ended: float
    body: str = ""  # the start of the answer, for a 5xx


@dataclass
class Item:
    """One complaint of the stream and what became of it."""

    index: int
    body: dict
    department: str
    attach: bool
    number: str | None = None
    token: str | None = None
    accepted: bool = False
    confirmed: bool = False
    started: bool = False
    attachment_ok: bool | None = None
    problems: list = field(default_factory=list)


def make_stream(count: int, departments: list[str], seed: int = 15) -> list[Item]:
    """``count`` complaints with e-mail addresses, the same for every run of one seed."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        body = {"name": f"Customer {i:03d}", "email": f"customer{i:03d}@example.test", "language": "en",
                "kind": "complaint",
                "category": rng.choice(["slow_delivery", "product_quality", "slow_service", "other"]),
                "subject": f"Order {rng.randrange(10**6, 10**7)} {rng.choice(['late', 'broken', 'missing'])}",
                "description": " ".join(rng.choice(["parcel", "box", "driver", "late", "again", "refund"])
                                        for _ in range(12))}
        items.append(Item(i, body, rng.choice(departments), attach=i % 10 == 3))
    return items


class Recorder:
    """Sends requests, records them, retries a 503 or a dropped connection."""

    def __init__(self, webs: list[str], stopped: threading.Event):
        self.webs, self.stopped = webs, stopped
        self.calls: list[Call] = []
        self.lock = threading.Lock()

    def send(self, who: str, node: int, method: str, path: str, label: str | None = None,
             session: requests.Session | None = None, **kwargs) -> requests.Response | None:
        """The response (any status but 503) or None when none came within ``RETRY_FOR``."""
        base = self.webs[node % len(self.webs)]
        http = session or requests
        deadline = time.monotonic() + RETRY_FOR
        while True:
            started = time.time()
            try:
                response = http.request(method, base + path, timeout=30, **kwargs)
                status, error = response.status_code, ""
            except requests.RequestException as exc:
                response, status, error = None, None, f"{type(exc).__name__}: {exc}"[:300]
            body = response.text[:200] if response is not None and status >= 500 else ""
            with self.lock:
                self.calls.append(Call(who, base, method, label or path, status, error, started, time.time(), body))
            if response is not None and status != 503:
                return response
            if time.monotonic() > deadline or self.stopped.is_set():
                return None
            # A client's retry policy, not a test's wait: Retry-After, capped at a second.
            wait = 0.5
            if response is not None:
                try:
                    wait = min(1.0, float(response.headers.get("Retry-After", "0.5")))
                except ValueError:
                    pass
            self.stopped.wait(wait)


class Traffic(threading.Thread):
    """Works through the stream, item by item, as far as ``allow`` lets it."""

    def __init__(self, recorder: Recorder, items: list[Item], token: str):
        super().__init__(name="kefu-traffic", daemon=True)
        self.recorder, self.items = recorder, items
        self.staff = {"Authorization": f"Bearer {token}"}
        self.allowed = 0
        self.done = 0
        self.cond = threading.Condition()
        self.http = requests.Session()
        self.crashed: BaseException | None = None

    def allow(self, more: int) -> None:
        """Let ``more`` items of the stream go."""
        with self.cond:
            self.allowed = min(len(self.items), self.allowed + more)
            self.cond.notify_all()

    def run(self):
        """Work the stream as far as allowed; an exception is kept in ``crashed``."""
        try:
            for item in self.items:
                with self.cond:
                    self.cond.wait_for(lambda: self.allowed > item.index or self.recorder.stopped.is_set())
                if self.recorder.stopped.is_set():
                    return
                self._one(item)
                with self.cond:
                    self.done += 1
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.crashed = exc

    def _send(self, node, method, path, label, **kwargs):
        return self.recorder.send("traffic", node, method, path, label, session=self.http, **kwargs)

    def _one(self, item: Item) -> None:
        here, there = item.index % 2, (item.index + 1) % 2
        # A key per complaint, as a careful client sends: a retry after a 503
        # whose commit had gone through (a restart mid-commit) files nothing new.
        response = self._send(here, "POST", "/api/v1/public/tickets", None, json=item.body,
                              headers={"Idempotency-Key": f"cluster-complaint-{item.index:04d}"})
        if response is None or response.status_code != 201:
            item.problems.append(f"filing: {response.status_code if response is not None else 'no answer'}")
            return
        item.accepted = True
        item.number, item.token = response.json()["number"], response.json()["token"]
        for action, fields in (("confirm", {"department": item.department}), ("start", {})):
            if not self._transition(item, there, action, fields):
                return
        self._send(there, "GET", f"/api/v1/public/tickets/{item.token}", "/api/v1/public/tickets/<token>")
        if item.attach:
            content = f"attachment of {item.number}\n".encode() * 50
            response = self._send(here, "POST", f"/api/v1/tickets/{item.number}/attachments",
                                  "/api/v1/tickets/<n>/attachments", headers=self.staff,
                                  files={"file": (f"{item.number}.txt", content, "text/plain")})
            if response is None or response.status_code != 201:
                item.attachment_ok = False
                item.problems.append(f"upload: {response.status_code if response is not None else 'no answer'}")
                return
            response = self._send(there, "GET", f"/api/v1/tickets/{item.number}/attachments/{response.json()['id']}",
                                  "/api/v1/tickets/<n>/attachments/<id>", headers=self.staff)
            item.attachment_ok = response is not None and response.status_code == 200 and response.content == content
            if not item.attachment_ok:
                item.problems.append(f"download: {response.status_code if response is not None else 'no answer'}")

    def _transition(self, item: Item, node: int, action: str, fields: dict) -> bool:
        path = f"/api/v1/tickets/{item.number}"
        for _ in range(3):
            ticket = self._send(node, "GET", path, "/api/v1/tickets/<n>", headers=self.staff)
            if ticket is None or ticket.status_code != 200:
                item.problems.append(f"reading before {action}: {ticket.status_code if ticket is not None else '-'}")
                return False
            want = {"confirm": "confirmed", "start": "in_progress"}[action]
            if ticket.json()["status"] == want:  # a retried request had gone through after all
                setattr(item, {"confirm": "confirmed", "start": "started"}[action], True)
                return True
            response = self._send(node, "POST", path + "/transitions", "/api/v1/tickets/<n>/transitions",
                                  headers=self.staff, json={"action": action, "version": ticket.json()["version"],
                                                            **fields})
            if response is not None and response.status_code == 200:
                setattr(item, {"confirm": "confirmed", "start": "started"}[action], True)
                return True
            if response is None or response.status_code != 409:
                item.problems.append(f"{action}: {response.status_code if response is not None else 'no answer'}")
                return False
        item.problems.append(f"{action}: 409 three times")
        return False


class Reader(threading.Thread):
    """Reads the customers' tracking views of the filed complaints, on both
    nodes in turn, all along: load on the public side while faults happen."""

    def __init__(self, recorder: Recorder, items: list[Item], every: float = 0.1):
        super().__init__(name="kefu-reader", daemon=True)
        self.recorder, self.items, self.every = recorder, items, every
        self.http = requests.Session()

    def run(self):
        """Read tracking views until the recorder is stopped."""
        turn = 0
        while not self.recorder.stopped.is_set():
            tokens = [item.token for item in self.items if item.token]
            if tokens:
                token = tokens[turn % len(tokens)]
                if turn % 4 == 0:
                    self.recorder.send("reader", turn, "GET", f"/track/{token}", "/track/<token>", session=self.http)
                else:
                    self.recorder.send("reader", turn, "GET", f"/api/v1/public/tickets/{token}",
                                       "/api/v1/public/tickets/<token>", session=self.http)
                turn += 1
            self.recorder.stopped.wait(self.every)  # pacing of the load, not a wait for an outcome
