"""Background work kept in the database: the transactional outbox, the
effects jobs have already had, and inbound mail that could not be taken in."""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.models.base import UTCDateTime, utcnow


class OutboxJob(db.Model):
    """A job written in the same transaction as the change that asked for it.

    ``relayed_at`` is set once the job is on RQ; ``done_at`` once it ran to
    the end; ``failed_at`` once it has no retry left (an admin can retry it).
    A rolled-back change leaves no row, so nothing runs for it; a row
    committed while Redis is down waits here until the relay succeeds, and a
    relayed row whose RQ job vanished (Redis wiped) or outlived its lease is
    relayed again (``service.jobs.reconcile``): the row is the record.
    """

    __tablename__ = "jobs_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(40))
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    # Two enqueues with the same key in the same or later transactions are one job.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    run_at = mapped_column(UTCDateTime)  # not before (None: at once)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    relayed_at = mapped_column(UTCDateTime)
    started_at = mapped_column(UTCDateTime)
    done_at = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at = mapped_column(UTCDateTime)
    relays: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_jobs_outbox_relayed_at_id", "relayed_at", "id"),
                      Index("ix_jobs_outbox_done_at_id", "done_at", "id"))


class PeriodicRun(db.Model):
    """One period of one periodic job: claimed once, in the database.

    ``slot`` is ``floor(epoch seconds / interval)``. The unique (job, slot)
    pair is what makes a period run once however many tickers see it and
    whatever happened to Redis. ``status``: queued, running, done, failed
    (retried within its period while attempts are left), skipped (a later
    period of the same job ran first).
    """

    __tablename__ = "periodic_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(80))
    slot: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    started_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("job", "slot"), Index("ix_periodic_runs_status", "status", "job"))


class PeriodicLock(db.Model):
    """Who runs periodic job ``job`` now: one row per job, taken by a
    conditional update, so two runs of one job never overlap (a lock older
    than the job's lease belongs to a dead run and may be taken over)."""

    __tablename__ = "periodic_locks"

    job: Mapped[str] = mapped_column(String(80), primary_key=True)
    slot: Mapped[int | None] = mapped_column(BigInteger)
    holder: Mapped[str | None] = mapped_column(String(200))
    since = mapped_column(UTCDateTime)


class JobEffect(db.Model):
    """One side effect (an e-mail, a webhook delivery) a job has had, by key.

    A job claims the key before the effect and marks it done after, so a job
    that runs twice has the effect once (see ``service.jobs.registry.effect_once``).
    """

    __tablename__ = "job_effects"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    done_at = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text)


class QuarantinedMail(db.Model):
    """Inbound mail kefu could not take in, kept with the reason, never dropped."""

    __tablename__ = "mail_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    source: Mapped[str] = mapped_column(String(20))  # smtp, imap, cli
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
