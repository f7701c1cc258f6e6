"""The core's periodic job functions (declared in ``service.jobs.registry.CORE_JOBS``)."""
from __future__ import annotations

import logging

from service.usecases.tickets import close_stale_resolved

log = logging.getLogger("kefu.jobs")


def autoclose() -> list[str]:
    """``tickets.autoclose``: close resolved tickets left unanswered for
    ``AUTO_CLOSE_DAYS`` (each its own transaction; the customer is mailed)."""
    closed = close_stale_resolved()
    if closed:
        log.info("auto-closed %d tickets: %s", len(closed), ", ".join(closed))
    return closed
