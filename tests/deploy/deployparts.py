"""Real parts for the deployment tests (used by conftest.py and the tests):
a PostgreSQL cluster that can be stopped and started, and small helpers."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from redis import Redis

# The job tests' real parts (redis-server, wait_until) are shared.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "jobs"))
from jobparts import RedisServer, free_port, wait_until  # noqa: F401  (RedisServer: for conftest.py)

PG_BIN = max(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), default=None)

BODY = {"name": "Wang Fang", "email": "wang@example.test", "kind": "complaint",
        "subject": "Washing machine not delivered", "description": "Ordered two weeks ago."}


def counted_in_redis(url: str) -> int:
    """The sum of every rate-limit counter kept in the Redis at ``url`` (0 when none)."""
    conn = Redis.from_url(url)
    try:
        return sum(int(conn.get(key) or 0) for key in conn.scan_iter("LIMITS*"))
    finally:
        conn.close()


class PgCluster:
    """A PostgreSQL cluster on a free loopback port, in a directory of its own
    under /tmp (initdb and pg_ctl run as the postgres user, which cannot enter
    pytest's private temp folders), with ``stop()`` and ``start()`` of the same
    data directory, as an operator restarting the server would."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kefu-pg-deploy-")
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kefu_test"

    def _as_pg(self, *args, **kwargs):
        command = [os.path.join(PG_BIN, args[0]), *args[1:]]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)

    def create(self):
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._as_pg("initdb", "-D", f"{self.dir}/data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8")
        self.start()
        self._as_pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "kefu_test")
        return self

    @property
    def running(self) -> bool:
        return os.path.exists(f"{self.dir}/data/postmaster.pid")

    def start(self):
        """Start the server and wait until it takes connections."""
        self._as_pg("pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "-o",
                    f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off", "start")

    def stop(self):
        """Stop the server the way ``systemctl stop`` does ("fast": open sessions are cut)."""
        self._as_pg("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def destroy(self):
        pid_file = f"{self.dir}/data/postmaster.pid"
        if os.path.exists(pid_file):
            with open(pid_file) as fh:
                pid = int(fh.readline())
            try:
                os.kill(pid, signal.SIGINT)
                wait_until(lambda: not _alive(pid), timeout=30, what="PostgreSQL to stop")
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
