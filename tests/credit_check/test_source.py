"""The external credit source (credit_source hook): used when it answers in
time; a failing or slow one never blocks, and the internal score applies."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from plugins.credit_check.figures import set_figures
from plugins.credit_check.rating import rate_customer
from service import hookimpl
from service.hooks import plugins

from creditparts import BEST


def _register(kefu_plugins, plugin, name="bureau"):
    return kefu_plugins.register(plugin, name=name)


@pytest.fixture
def rated_customer(make_customer):
    customer = make_customer()
    set_figures(customer, "2026Q3", dict(BEST, on_time_payment_rate=90))  # internal 97.00 AAA
    return customer


class Counting:
    """A source answering ``answer`` (or raising ``error``) after ``delay``
    seconds; with ``hold`` it answers only once ``release`` is set."""

    def __init__(self, answer=None, error=None, delay=0.0, hold=False):
        self.answer, self.error, self.delay, self.hold, self.calls = answer, error, delay, hold, 0
        self.done, self.release = threading.Event(), threading.Event()

    @hookimpl
    def credit_source(self, customer, quarter):
        self.calls += 1
        try:
            if self.hold:
                self.release.wait(30)
            if self.delay:
                time.sleep(self.delay)
            if self.error:
                raise self.error
            return self.answer
        finally:
            self.done.set()


def test_an_answering_source_is_graded_and_named(kefu_plugins, rated_customer):
    _register(kefu_plugins, Counting({"score": 72, "source": "bureau-x"}))
    rating = rate_customer(rated_customer, "2026Q4")
    assert (rating.status, rating.grade, rating.score, rating.source) == ("rated", "A", Decimal("72.00"), "bureau-x")
    assert rating.internal_score == Decimal("97.00") and len(rating.breakdown) == 20  # still explained
    assert rating.reason is None


def test_a_source_can_rate_a_customer_without_figures(kefu_plugins, make_customer):
    _register(kefu_plugins, Counting({"score": 55.5, "source": "bureau-x"}))
    rating = rate_customer(make_customer("N-1"), "2026Q4")
    assert (rating.status, rating.grade, rating.score, rating.breakdown) == ("rated", "C", Decimal("55.50"), None)
    assert "no internal breakdown" in rating.reason


def test_a_failing_source_falls_back_to_the_internal_score(kefu_plugins, rated_customer):
    source = _register(kefu_plugins, Counting(error=ConnectionError("bureau unreachable")))
    rating = rate_customer(rated_customer, "2026Q4")
    assert (rating.status, rating.grade, rating.score, rating.source) == ("rated", "AAA", Decimal("97.00"), "scorecard")
    assert rating.reason == "external source failed: bureau: ConnectionError: bureau unreachable"
    # Backing off: the next rating within a minute does not ask again.
    again = rate_customer(rated_customer, "2026Q4")
    assert source.calls == 1 and again.reason.startswith("external source skipped for")
    assert again.grade == "AAA"


@pytest.mark.parametrize("answer", [{"score": 101}, {"score": "high"}, "AAA", {"grade": "AA"}])
def test_a_malformed_answer_counts_as_a_failure(kefu_plugins, rated_customer, answer):
    _register(kefu_plugins, Counting(answer))
    rating = rate_customer(rated_customer, "2026Q4")
    assert (rating.grade, rating.source) == ("AAA", "scorecard")
    assert rating.reason.startswith("external source failed: bureau: ValueError: credit_source")


@pytest.mark.parametrize("overrides", [{"CREDIT_SOURCE_TIMEOUT": 0.2}])
def test_a_slow_source_never_blocks_the_request(kefu_plugins, client, make_staff, rated_customer):
    # The source answers only when the test lets it, after the requests: had
    # a request waited for it, it would have waited the whole 30 s hold, and
    # the source would have finished before the answer came back.
    source = _register(kefu_plugins, Counting({"score": 10, "source": "slow"}, hold=True))
    headers = make_staff("supervisor")[1]
    started = time.monotonic()
    response = client.post(f"/api/v1/customers/{rated_customer}/credit/rate", headers=headers,
                           json={"quarter": "2026Q4"})
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.json
    assert source.calls == 1 and not source.done.is_set(), "the request waited for the source"
    assert elapsed < 20, f"the request waited {elapsed:.2f} s for a source with a 0.2 s deadline"
    assert (response.json["grade"], response.json["score"], response.json["source"]) == ("AAA", 97.0, "scorecard")
    assert response.json["reason"] == "external source timed out after 0.2 s"
    # Meanwhile tickets open without waiting for anything.
    opened = client.post("/api/v1/tickets", headers=headers, json={
        "customer_id": rated_customer, "subject": "s", "description": "d",
        "remedy": {"text": "refund", "amount": "10.00", "currency": "CNY"}})
    assert opened.status_code == 201 and not source.done.is_set()
    assert opened.json["remedy"]["decision"] == "approved"  # the AAA rating in force
    source.release.set()
    assert source.done.wait(5)  # let the late answer finish before the app is torn down


def test_answers_are_cached_per_customer_and_quarter(kefu_plugins, rated_customer):
    source = _register(kefu_plugins, Counting({"score": 85, "source": "bureau-x"}))
    assert rate_customer(rated_customer, "2026Q4").grade == "AA"
    assert rate_customer(rated_customer, "2026Q4").grade == "AA"
    assert source.calls == 1
    rate_customer(rated_customer, "2027Q1")  # another quarter: asked again
    assert source.calls == 2


@pytest.mark.parametrize("overrides", [{"CREDIT_SOURCE_CACHE_SECONDS": 0}])
def test_no_cache_when_turned_off(kefu_plugins, rated_customer):
    source = _register(kefu_plugins, Counting({"score": 85, "source": "bureau-x"}))
    rate_customer(rated_customer, "2026Q4")
    rate_customer(rated_customer, "2026Q4")
    assert source.calls == 2


def test_credit_source_is_the_plugins_own_decider(kefu_plugins, rated_customer):
    import inspect

    from plugins.credit_check import hookspecs

    manager = kefu_plugins.manager
    assert manager.kind("credit_source") == "decider"
    assert manager.pm.hook.credit_source.spec.namespace is hookspecs
    doc = inspect.getdoc(hookspecs.credit_source)
    assert ":return:" in doc and all(f":param {p}:" in doc for p in ("customer", "quarter"))
    # Nobody answers: the internal score, and nothing to note.
    rating = rate_customer(rated_customer, "2026Q4")
    assert (rating.grade, rating.score, rating.source, rating.reason) == ("AAA", Decimal("97.00"), "scorecard", None)


def test_without_credit_check_nobody_declares_credit_source(build_app, app_config):
    with build_app({**app_config, "DISABLED_PLUGINS": ["credit_check"]}):
        assert plugins().kind("credit_source") is None
