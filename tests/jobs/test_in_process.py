"""The embedded default: without REDIS_URL the serving process runs jobs itself."""
from __future__ import annotations

import glob

import pytest
from jobparts import wait_until


@pytest.fixture
def overrides():
    # What `make run` gets: no Redis, no SMTP; only TESTING turns the runner
    # off by default, so the test turns it back on.
    return {"JOBS_IN_PROCESS": True, "JOB_TICK_SECONDS": 0.2}


def test_a_served_app_without_redis_sends_mail_through_its_own_runner(app, client, agent, file_ticket, act):
    assert app.extensions.get("kefu_runner") is None  # building the app starts nothing
    number = file_ticket()["number"]  # the first request starts the runner thread
    runner = app.extensions["kefu_runner"]
    try:
        act(agent, number, "confirm", department="logistics")
        act(agent, number, "start")
        act(agent, number, "resolve", resolution="A new unit is on its way.")
        mails = lambda: sorted(glob.glob(f"{app.config['MAIL_LOG_DIR']}/*.eml"))  # noqa: E731
        wait_until(lambda: len(mails()) == 3, timeout=20, what="three mails in the dev mail log")
        texts = [open(p, encoding="utf-8").read() for p in mails()]
        assert sum("A new unit is on its way." in t for t in texts) == 1
        assert runner._thread.is_alive()
    finally:
        runner.stop()
    assert not runner._thread.is_alive()
