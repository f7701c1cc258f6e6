"""Side effects that happen once however often their job runs (retries,
duplicate deliveries, a worker killed mid-job)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from service.db_errors import is_database_unavailable
from service.extensions import db
from service.models import JobEffect
from service.models.base import utcnow


class EffectBusy(RuntimeError):
    """Another run of the same effect is in flight; retry later."""


def _current_rq_job_id() -> str | None:
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else None


@contextmanager
def effect_once(key: str, claim_seconds: int = 120):
    """Guard one side effect: yields True when it should happen now, False when
    it already happened; marks it done when the block ends without error.

    The key is claimed (committed) before the effect. A claim left by a run
    that died is taken over by the same RQ job's retry at once, by others
    after ``claim_seconds``; a live claim by another run raises ``EffectBusy``
    (retried later). Only the window between the effect and marking it done
    can repeat it, which is why e-mails carry a Message-ID derived from
    the key (receivers fold duplicates); and that window is kept shut
    across a database restart: marking done waits for the database
    (``_mark_done``) rather than failing the job, whose retry would repeat
    an effect that already happened.
    """
    owner = _current_rq_job_id() or "local"
    now = utcnow()
    effect = db.session.get(JobEffect, key)
    if effect is not None and effect.done_at is not None:
        yield False
        return
    if effect is None:
        db.session.add(JobEffect(key=key, claimed_at=now, detail=f"claimed by {owner}"))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise EffectBusy(f"effect {key} was claimed by a concurrent run") from None
    elif effect.detail != f"claimed by {owner}" and effect.claimed_at > now - timedelta(seconds=claim_seconds):
        raise EffectBusy(f"effect {key} is in flight ({effect.detail})")
    else:
        effect.claimed_at, effect.detail = now, f"claimed by {owner}"
        db.session.commit()
    yield True
    _mark_done(key, owner)


def _mark_done(key: str, owner: str) -> None:
    """Record effect ``key`` done. While the database is away (a restart,
    a failover) it tries again, up to ``EFFECT_DONE_PATIENCE`` seconds, with
    a growing pause: the effect has happened, and a job failed now would be
    retried and do it a second time. Other errors, and an outage that
    outlasts the patience, are raised."""
    deadline = time.monotonic() + current_app.config["EFFECT_DONE_PATIENCE"]
    pause = 0.2
    while True:
        try:
            effect = db.session.get(JobEffect, key)
            effect.done_at = utcnow()
            effect.detail = f"done by {owner}"
            db.session.commit()
            return
        except Exception as exc:
            db.session.rollback()
            if not is_database_unavailable(exc) or time.monotonic() + pause > deadline:
                raise
            current_app.logger.warning("effect %s happened; the database is away, marking it done again in %.1f s",
                                       key, pause)
            time.sleep(pause)  # waiting for the database to come back, not for a test's condition
            pause = min(pause * 2, 5.0)
