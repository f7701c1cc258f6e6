"""A job for tests/sdk/test_sdk.py, importable by the job runner."""
from __future__ import annotations

from service import sdk

CALLS: list = []


def ping(ticket_id: int) -> str:
    """Record the call once per ticket (its effect guarded)."""
    with sdk.effect_once(f"acme.ping:{ticket_id}") as go:
        if go:
            CALLS.append(ticket_id)
    return "pinged"
