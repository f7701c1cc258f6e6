"""Small helpers for the deployment tests (the stoppable PostgreSQL cluster
is ``tests/pgcluster.py``, the redis-server ``tests/jobparts.py``)."""
from __future__ import annotations

from redis import Redis

BODY = {"name": "Wang Fang", "email": "wang@example.test", "kind": "complaint",
        "subject": "Washing machine not delivered", "description": "Ordered two weeks ago."}


def counted_in_redis(url: str) -> int:
    """The sum of every rate-limit counter kept in the Redis at ``url`` (0 when none)."""
    conn = Redis.from_url(url)
    try:
        return sum(int(conn.get(key) or 0) for key in conn.scan_iter("LIMITS*"))
    finally:
        conn.close()
