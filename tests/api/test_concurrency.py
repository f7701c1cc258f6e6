"""Concurrent writes to one ticket: optimistic locking loses nothing.

Several threads, each with its own test client (so its own app context and
database session per request), write to the same ticket at once. With the same
version, exactly one write wins and the rest answer 409 ``stale_version``;
with read-then-write retry loops, every success is one version and one
history event, none lost, none doubled.

Runs on SQLite (a file in WAL mode, writers wait on each other through the
busy timeout) and on PostgreSQL.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import has_app_context

from service.extensions import db

THREADS = 8


def _run_together(app, n, work):
    """Run ``work(i, client)`` in ``n`` threads released at the same moment; return the results.

    Each thread has its own test client and no pushed app context, so each
    request gets a fresh app context and session, as under a threaded server.
    """
    barrier = threading.Barrier(n)

    def run(i):
        client = app.test_client()
        barrier.wait(timeout=30)
        return work(i, client)

    with ThreadPoolExecutor(n) as pool:
        return [f.result(timeout=120) for f in [pool.submit(run, i) for i in range(n)]]


def _history(client, headers, number):
    _fresh_session()
    response = client.get(f"/api/v1/tickets/{number}/history", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _fresh_session():
    """The test's own app context keeps one session across its requests; start
    a new one so that reads in the main thread cannot come from its identity map."""
    if has_app_context():
        db.session.remove()


def _ticket(client, headers, number):
    _fresh_session()
    response = client.get(f"/api/v1/tickets/{number}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def ticket(client, agent, file_ticket, act):
    """The number of a confirmed, in-progress ticket."""
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")
    act(agent, number, "start")
    return number


@pytest.fixture
def staff_ids(make_staff):
    """Three more agents to assign the ticket to."""
    return [make_staff("agent")[0].id for _ in range(3)]


PRIORITIES = ("low", "normal", "high", "urgent")


def _edit_for(i, before, staff_ids):
    """Thread i's PATCH fields: a priority (odd i) or an assignee (even i) that differs from ``before``."""
    if i % 2:
        return {"priority": [p for p in PRIORITIES if p != before["priority"]][i % 3]}
    now = (before["assignee"] or {}).get("id")
    return {"assignee": [s for s in staff_ids if s != now][i % 2]}


def _same_version_writes(kind, number, before, headers, staff_ids):
    """``work`` for ``_run_together``: thread i writes once, all at ``before``'s version."""
    version = before["version"]

    def work(i, client):
        if kind == "transition":
            # wait and resolve are both legal from in_progress: only the version decides.
            body = ({"action": "wait", "version": version} if i % 2 else
                    {"action": "resolve", "version": version, "resolution": f"fixed by thread {i}"})
            response = client.post(f"/api/v1/tickets/{number}/transitions", json=body, headers=headers)
        else:
            body = {"version": version, **_edit_for(i, before, staff_ids)}
            response = client.patch(f"/api/v1/tickets/{number}", json=body, headers=headers)
        return i, response.status_code, response.get_json()

    return work


def _check_one_winner(results, before):
    codes = Counter(code for _i, code, _body in results)
    assert codes[200] == 1, results
    assert codes[409] == len(results) - 1, results
    for _i, code, body in results:
        if code == 409:
            assert body["error"]["code"] == "stale_version", body
            assert body["error"].get("current_version", before["version"] + 1) == before["version"] + 1, body
    winner_i, _code, winner = next(r for r in results if r[1] == 200)
    assert winner["version"] == before["version"] + 1
    return winner_i


@pytest.mark.parametrize("kind", ["patch", "transition"])
def test_same_version_from_many_threads_exactly_one_wins(kind, app, client, agent, ticket, staff_ids):
    before = _ticket(client, agent, ticket)
    events_before = _history(client, agent, ticket)
    assert before["status"] == "in_progress"

    results = _run_together(app, THREADS, _same_version_writes(kind, ticket, before, agent, staff_ids))
    winner_i = _check_one_winner(results, before)

    # Nothing lost, nothing doubled: the ticket is what the winner wrote.
    after = _ticket(client, agent, ticket)
    assert after["version"] == before["version"] + 1
    events = _history(client, agent, ticket)
    assert events[:len(events_before)] == events_before
    new = events[len(events_before):]
    if kind == "transition":
        moves = [e for e in new if e["to_status"] is not None]
        assert len(moves) == 1, new
        want = ("wait", "in_progress", "waiting_on_customer") if winner_i % 2 else \
            ("resolve", "in_progress", "resolved")
        assert (moves[0]["action"], moves[0]["from_status"], moves[0]["to_status"]) == want
        assert after["status"] == want[2]
        if after["status"] == "resolved":
            assert after["resolution"] == f"fixed by thread {winner_i}"
    else:
        updates = [e for e in new if e["action"] == "updated"]
        assert len(updates) == 1, new
        assert not [e for e in new if e["to_status"] is not None]
        (name, value), = _edit_for(winner_i, before, staff_ids).items()
        old = before[name] if name == "priority" else (before[name] or {}).get("id")
        assert updates[0]["details"]["changes"] == {name: [old, value]}
        assert (after[name] if name == "priority" else after[name]["id"]) == value


def test_same_version_race_repeated(app, client, agent, ticket, staff_ids):
    """Several rounds of the PATCH race on one ticket: one winner per round, every time."""
    start = _ticket(client, agent, ticket)
    updates_before = sum(e["action"] == "updated" for e in _history(client, agent, ticket))
    rounds = 4
    for _ in range(rounds):
        before = _ticket(client, agent, ticket)
        results = _run_together(app, THREADS, _same_version_writes("patch", ticket, before, agent, staff_ids))
        _check_one_winner(results, before)
        assert _ticket(client, agent, ticket)["version"] == before["version"] + 1
    assert _ticket(client, agent, ticket)["version"] == start["version"] + rounds
    updates = sum(e["action"] == "updated" for e in _history(client, agent, ticket))
    assert updates == updates_before + rounds


SUCCESSES_PER_THREAD = 5


def test_retry_loops_lose_no_update(app, client, agent, ticket, staff_ids):
    """Threads read the version, PATCH, and retry on 409 until each has N successes."""
    before = _ticket(client, agent, ticket)
    events_before = _history(client, agent, ticket)
    n_threads = 6

    def work(i, client):
        successes, stale, jumps = 0, 0, 0
        for _attempt in range(2000):
            if successes == SUCCESSES_PER_THREAD:
                break
            current = _ticket(client, agent, ticket)
            # Always a real change, so a success always makes a new version.
            if i % 2:
                body = {"version": current["version"],
                        "priority": next(p for p in PRIORITIES[i % 4:] + PRIORITIES if p != current["priority"])}
            else:
                now = (current["assignee"] or {}).get("id")
                body = {"version": current["version"],
                        "assignee": next(s for s in staff_ids[i % 3:] + staff_ids if s != now)}
            response = client.patch(f"/api/v1/tickets/{ticket}", json=body, headers=agent)
            if response.status_code == 200:
                successes += 1
                # At least our version: the answer is read back after the
                # commit, so it may already show a later thread's write.
                assert response.json["version"] > current["version"]
                jumps += response.json["version"] != current["version"] + 1
            else:
                assert response.status_code == 409, response.get_json()
                assert response.json["error"]["code"] == "stale_version", response.json
                stale += 1
        return i, successes, stale, jumps

    results = _run_together(app, n_threads, work)
    total = sum(successes for _i, successes, _stale, _j in results)
    assert all(successes == SUCCESSES_PER_THREAD for _i, successes, _s, _j in results), results
    assert total == n_threads * SUCCESSES_PER_THREAD

    after = _ticket(client, agent, ticket)
    assert after["version"] == before["version"] + total
    events = _history(client, agent, ticket)
    assert events[:len(events_before)] == events_before
    new = events[len(events_before):]
    updates = [e for e in new if e["action"] == "updated"]
    assert len(updates) == total
    assert not [e for e in new if e["to_status"] is not None]
    # The last update in the history is what the ticket shows now.
    last = {}
    for e in updates:
        for name, (_old, value) in e["details"]["changes"].items():
            last[name] = value
    if "priority" in last:
        assert after["priority"] == last["priority"]
    if "assignee" in last:
        assert (after["assignee"] or {}).get("id") == last["assignee"]
    # Each update starts from the value the one before left.
    seen = {"priority": before["priority"], "assignee": (before["assignee"] or {}).get("id")}
    for e in updates:
        for name, (old, value) in e["details"]["changes"].items():
            assert old == seen[name], (name, old, seen[name], e)
            seen[name] = value


def test_concurrent_transitions_and_edits_keep_the_workflow_consistent(app, client, agent, ticket, staff_ids):
    """Threads race to move the ticket round in_progress <-> waiting while others edit it.

    Each thread retries at the current version; a transition that is no
    longer legal answers 409 illegal_transition and is retried from the new
    state. The history must be a proper chain and count every success.
    """
    before = _ticket(client, agent, ticket)
    events_before = _history(client, agent, ticket)
    n_threads, per_thread = 4, 4

    def work(i, client):
        done = Counter()
        for _attempt in range(2000):
            if sum(done.values()) == per_thread:
                break
            current = _ticket(client, agent, ticket)
            if i % 2:
                action = "wait" if current["status"] == "in_progress" else "start"
                response = client.post(f"/api/v1/tickets/{ticket}/transitions", headers=agent,
                                       json={"action": action, "version": current["version"]})
            else:
                action = "edit"
                body = {"version": current["version"],
                        "priority": next(p for p in PRIORITIES if p != current["priority"])}
                response = client.patch(f"/api/v1/tickets/{ticket}", json=body, headers=agent)
            if response.status_code == 200:
                done[action] += 1
            else:
                assert response.status_code == 409, response.get_json()
                assert response.json["error"]["code"] in ("stale_version", "illegal_transition"), response.json
        return done

    results = _run_together(app, n_threads, work)
    totals = sum(results, Counter())
    total = sum(totals.values())
    assert total == n_threads * per_thread

    after = _ticket(client, agent, ticket)
    assert after["version"] == before["version"] + total
    events = _history(client, agent, ticket)
    assert events[:len(events_before)] == events_before
    new = events[len(events_before):]
    moves = [(e["action"], e["from_status"], e["to_status"]) for e in new if e["to_status"] is not None]
    assert Counter(a for a, _f, _t in moves) == Counter({k: v for k, v in totals.items() if k != "edit"})
    assert len([e for e in new if e["action"] == "updated"]) == totals["edit"]
    status = before["status"]
    for _action, from_status, to_status in moves:
        assert from_status == status
        status = to_status
    assert after["status"] == status
