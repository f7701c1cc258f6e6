"""A throwaway PostgreSQL cluster on a free loopback port, for tests that must
stop, start or restart the server (the suite's own server is shared by every
test and cannot be). It lives in a folder of its own under /tmp: initdb and
pg_ctl run as the postgres user, which cannot enter pytest's private temp
folders. ``destroy`` stops it by the postmaster's pid and removes the folder."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from jobparts import free_port, wait_until


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PgCluster:
    """``create()`` (initdb, start, create ``database``), ``stop()`` and
    ``start()`` of the same data folder ("fast": open sessions are cut, as
    ``systemctl stop`` does), ``restart()``, ``destroy()``; ``url`` of the database."""

    def __init__(self, database: str = "kefu_test", max_connections: int = 200):
        self.bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="kefu-test-pg-"))
        self.port, self.database, self.max_connections = free_port(), database, max_connections

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        subprocess.run(_as_postgres([str(self.bindir / program), *args]), check=True, capture_output=True,
                       timeout=timeout)

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", *args, timeout=60)

    def create(self) -> "PgCluster":
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database, timeout=60)
        return self

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        self._ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                        f"-c synchronous_commit=off -c full_page_writes=off -c max_connections={self.max_connections}",
                  "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, then it answers again."""
        self._ctl("-m", "fast", "restart")

    def pid(self) -> int | None:
        """The postmaster's pid (None when it is not running)."""
        pidfile = self.dir / "data" / "postmaster.pid"
        return int(pidfile.read_text().split()[0]) if pidfile.exists() else None

    def destroy(self) -> None:
        pid = self.pid()
        if pid:
            try:
                os.kill(pid, signal.SIGINT)  # fast shutdown
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
