"""The two-node kefu of the cluster test, built as docs/deploy.md builds one:
a PostgreSQL cluster of its own, Redis, an S3-compatible bucket (moto's
server), an SMTP server, ``kefu db upgrade`` once, staff from the command
line, two gunicorn web nodes and two ``kefu worker`` processes, each node
with an instance folder of its own. Everything is on loopback and stopped
by its pid at the end of the module, however it ends."""
from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from clusterparts import Redis, S3Server, SmtpSink, WebNode, Worker, kefu, kefu_env

from pgcluster import PgCluster

from service.demo import DEPARTMENTS

ROOT = Path(__file__).resolve().parents[2]
# Where the processes' logs are kept after the run, for whoever reads a failure.
LOGS_KEPT = ROOT / "test-output" / "cluster"

# Periods short enough that a two-minute test sees many of each.
RELAY_SECONDS, PERIOD_SECONDS = 2, 3


@dataclass
class Cluster:
    """The running parts; ``settings`` are what every node's environment holds."""

    workdir: Path
    pg: PgCluster
    redis: Redis
    s3: S3Server
    sink: SmtpSink
    settings: dict
    token: str
    webs: list = field(default_factory=list)
    workers: list = field(default_factory=list)
    queues: list = field(default_factory=list)
    periodic: dict = field(default_factory=dict)

    def env(self, name: str) -> dict:
        """The environment of a process on a machine called ``name``."""
        return kefu_env(self.settings, self.workdir / name / "instance")

    def engine(self) -> sa.Engine:
        """A new engine on the cluster's database (the caller disposes of it)."""
        return sa.create_engine(self.pg.url, pool_pre_ping=True)


def _job_layout(url: str, instance: Path) -> tuple[dict, list]:
    """``({periodic job: short interval}, [queue names])`` of this kefu and its plugins."""
    from service import create_app
    from service.extensions import db
    from service.jobs import registry

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "layout"})
    with app.app_context():
        periodic = {spec.name: RELAY_SECONDS if spec.name == "outbox.relay" else PERIOD_SECONDS
                    for spec in registry.periodic(app)}
        periodic["mail.imap_poll"] = 0  # no mailbox to poll here
        queues = registry.queues(app)
        db.engine.dispose()
    return periodic, queues


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running two-node kefu (see the module docstring)."""
    workdir = tmp_path_factory.mktemp("cluster")
    (workdir / "logs").mkdir()
    # max_connections: two gunicorn nodes, four workers' pools and the test's own.
    pg = PgCluster(database="kefu", max_connections=300)
    redis, s3, sink = Redis(workdir), S3Server(workdir), SmtpSink()
    webs, workers = [], []
    try:
        pg.create()
        redis.start()
        s3.start()
        sink.start()
        periodic, queues = _job_layout(pg.url, workdir / "layout")
        settings = {
            "DATABASE_URL": pg.url,
            "REDIS_URL": redis.url,
            # One key for every node: tracking links and sessions work on all of them.
            "SECRET_KEY": "cluster-" + secrets.token_urlsafe(32),
            "ATTACHMENT_STORAGE": "s3",
            "ATTACHMENT_S3_BUCKET": s3.bucket,
            "ATTACHMENT_S3_ENDPOINT_URL": s3.endpoint,
            "ATTACHMENT_S3_REGION": s3.REGION,
            "ATTACHMENT_S3_ACCESS_KEY_ID": s3.ACCESS_KEY,
            "ATTACHMENT_S3_SECRET_ACCESS_KEY": s3.SECRET_KEY,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": sink.port,
            "SMTP_TIMEOUT": 5,
            "PUBLIC_RATE_LIMIT": "10000 per minute",
            # Retries within seconds, and enough of them to outlast the SMTP outage.
            "JOB_RETRIES": 10,
            "JOB_RETRY_INTERVALS": [1, 2, 4],
            "JOB_INTERVALS": periodic,
            # A killed worker's job is found abandoned within seconds, not a
            # minute; a worker retries Redis every 2 s at most; the
            # reconciliation relays again what Redis lost after 3 s.
            "JOB_MONITORING_SECONDS": 3,
            "JOB_MAINTENANCE_SECONDS": 5,
            "JOB_RECONNECT_MAX_SECONDS": 2,
            "JOB_RECONCILE_GRACE_SECONDS": 3,
        }
        cluster = Cluster(workdir, pg, redis, s3, sink, settings, token="", queues=queues, periodic=periodic)
        admin = cluster.env("admin")
        kefu(["db", "upgrade"], admin)
        engine = cluster.engine()
        with engine.begin() as conn:  # kefu has no command for departments yet: SQL, as docs/deploy.md says
            conn.execute(sa.text("INSERT INTO departments (code, name, name_zh, created_at) "
                                 "VALUES (:code, :name, :name_zh, now())"),
                         [{"code": c, "name": n, "name_zh": z} for c, n, z in DEPARTMENTS])
        engine.dispose()
        created = kefu(["staff", "create", "--email", "agent@cluster.test", "--name", "Cluster Agent",
                        "--role", "agent", "--department", "after_sales"], admin)
        cluster.token = created.strip().splitlines()[-1]
        logs = workdir / "logs"
        for name in ("web1", "web2"):
            webs.append(WebNode(name, {}, logs))
        settings["PUBLIC_URL"] = webs[0].url  # the load balancer's address in a real deployment
        for node in webs:
            node.env = cluster.env(node.name)
            node.start()
        for name in ("worker1", "worker2"):
            workers.append(Worker(name, cluster.env(name), logs).start())
        cluster.webs, cluster.workers = webs, workers
        yield cluster
    finally:
        for stop in [*(p.stop for p in (*workers, *webs, sink, s3, redis)), pg.destroy]:
            try:
                stop()
            except Exception as exc:  # stop the rest whatever one of them does
                print(f"stopping {stop!r} failed: {exc}")
        shutil.rmtree(LOGS_KEPT, ignore_errors=True)
        shutil.copytree(workdir / "logs", LOGS_KEPT)
