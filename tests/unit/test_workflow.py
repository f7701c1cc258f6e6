"""Unit tests of ``service.domain.workflow``: the transition table, its guards and clocks.

The expected table is written out here by hand (from DOMAIN.md's workflow),
not read from ``workflow.TRANSITIONS``, so a changed row fails a test.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from service.domain import workflow
from service.domain.workflow import IllegalTransition, MissingFields, allowed_actions, check

# action -> (sources, target, required fields, lowest staff role, actors)
OPEN = ("new", "confirmed", "in_progress", "waiting_on_customer")
EXPECTED = {
    "confirm": (("new",), "confirmed", ("department",), "agent", ("staff",)),
    "start": (("confirmed", "waiting_on_customer"), "in_progress", (), "agent", ("staff",)),
    "wait": (("in_progress",), "waiting_on_customer", (), "agent", ("staff",)),
    "resolve": (("in_progress", "waiting_on_customer"), "resolved", ("resolution",), "agent", ("staff",)),
    "reopen": (("resolved",), "in_progress", ("reason",), "agent", ("staff", "customer")),
    "close": (("resolved",), "closed", (), "agent", ("staff", "customer", "system")),
    "cancel": (OPEN, "cancelled", ("reason",), "supervisor", ("staff",)),
    "customer_reply": (("waiting_on_customer",), "in_progress", (), None, ("customer",)),
}
STATUSES = ("new", "confirmed", "in_progress", "waiting_on_customer", "resolved", "closed", "cancelled")
ACTIONS = tuple(EXPECTED) + ("frobnicate", "", "CONFIRM")  # plus unknown actions

# What each viewer may do from each status, in table order.
ALLOWED = {
    ("staff", "admin"): {
        "new": ["confirm", "cancel"],
        "confirmed": ["start", "cancel"],
        "in_progress": ["wait", "resolve", "cancel"],
        "waiting_on_customer": ["start", "resolve", "cancel"],
        "resolved": ["reopen", "close"],
        "closed": [],
        "cancelled": [],
    },
    ("staff", "agent"): {
        "new": ["confirm"],
        "confirmed": ["start"],
        "in_progress": ["wait", "resolve"],
        "waiting_on_customer": ["start", "resolve"],
        "resolved": ["reopen", "close"],
        "closed": [],
        "cancelled": [],
    },
    ("customer", None): {
        "new": [], "confirmed": [], "in_progress": [],
        "waiting_on_customer": ["customer_reply"],
        "resolved": ["reopen", "close"],
        "closed": [], "cancelled": [],
    },
    ("system", None): {
        "new": [], "confirmed": [], "in_progress": [], "waiting_on_customer": [],
        "resolved": ["close"],
        "closed": [], "cancelled": [],
    },
}
ALLOWED[("staff", "supervisor")] = ALLOWED[("staff", "admin")]

GOOD_VALUES = {"department": "logistics", "resolution": "Delivered today.", "reason": "Duplicate of KF-1."}
ACTOR_FOR = {"confirm": ("staff", "agent"), "start": ("staff", "agent"), "wait": ("staff", "agent"),
             "resolve": ("staff", "agent"), "reopen": ("staff", "agent"), "close": ("staff", "agent"),
             "cancel": ("staff", "supervisor"), "customer_reply": ("customer", None)}


def _legal_cases():
    for action, (sources, target, _req, _role, _actors) in EXPECTED.items():
        for source in sources:
            yield pytest.param(action, source, target, id=f"{source}-{action}->{target}")


def _staff_legal_cases():
    return [p for p in _legal_cases() if "staff" in EXPECTED[p.values[0]][4]]


def _illegal_cases():
    for status in STATUSES:
        for action in ACTIONS:
            sources = EXPECTED.get(action, ((),))[0]
            if status not in sources:
                yield pytest.param(status, action, id=f"{status}-{action or 'blank'}")


# --- the table itself -------------------------------------------------------

def test_the_table_has_exactly_the_expected_rows():
    got = {a: (set(t.sources), t.target, t.requires, t.actors) for a, t in workflow.TRANSITIONS.items()}
    want = {a: (set(s), tgt, req, act) for a, (s, tgt, req, _role, act) in EXPECTED.items()}
    assert got == want
    for action, (_s, _t, _req, role, actors) in EXPECTED.items():
        if "staff" in actors:
            assert workflow.TRANSITIONS[action].min_role == role, action


def test_statuses_and_groups():
    assert set(workflow.STATUSES) == set(STATUSES)
    assert set(workflow.OPEN_STATUSES) == set(OPEN)
    assert set(workflow.FINAL_STATUSES) == {"closed", "cancelled"}
    # Nothing leaves a final status.
    for t in workflow.TRANSITIONS.values():
        assert not set(t.sources) & set(workflow.FINAL_STATUSES), t.action


def test_staff_actions_are_the_staff_rows_only():
    assert set(workflow.STAFF_ACTIONS) == {a for a, row in EXPECTED.items() if "staff" in row[4]}
    assert "customer_reply" not in workflow.STAFF_ACTIONS


def test_every_status_has_a_step_and_targets_stamp_their_time():
    assert set(workflow.STEP_OF_STATUS) == set(STATUSES)
    assert workflow.STEP_OF_STATUS["new"] == "listen"
    assert workflow.STEP_OF_STATUS["confirmed"] == "confirm"
    assert workflow.STEP_OF_STATUS["in_progress"] == workflow.STEP_OF_STATUS["waiting_on_customer"] == "handle"
    for status in ("resolved", "closed", "cancelled"):
        assert workflow.STEP_OF_STATUS[status] == "feed_back"
    assert workflow.STAMP_OF_STATUS == {
        "confirmed": "confirmed_at", "resolved": "resolved_at", "closed": "closed_at",
        "cancelled": "cancelled_at", "waiting_on_customer": "waiting_since",
    }


# --- legal moves ---------------------------------------------------------------

@pytest.mark.parametrize(("action", "source", "target"), list(_legal_cases()))
def test_every_transition_from_every_allowed_source(action, source, target):
    actor, role = ACTOR_FOR[action]
    values = {f: GOOD_VALUES[f] for f in EXPECTED[action][2]}
    t = check(action, source, values, actor=actor, role=role)
    assert (t.action, t.target) == (action, target)
    assert source in t.sources


@pytest.mark.parametrize(("action", "source", "target"), _staff_legal_cases())
def test_admin_may_do_every_staff_transition(action, source, target):
    values = {f: GOOD_VALUES[f] for f in EXPECTED[action][2]}
    assert check(action, source, values).target == target  # default actor: staff admin


# --- illegal moves ---------------------------------------------------------------

@pytest.mark.parametrize(("status", "action"), list(_illegal_cases()))
def test_every_illegal_pair_raises_with_the_allowed_list(status, action):
    with pytest.raises(IllegalTransition) as info:
        check(action, status, dict(GOOD_VALUES))
    exc = info.value
    assert (exc.action, exc.status) == (action, status)
    assert exc.allowed == ALLOWED[("staff", "admin")][status]
    assert status in str(exc)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(("actor", "role"), list(ALLOWED))
def test_allowed_actions_per_viewer_in_table_order(status, actor, role):
    assert allowed_actions(status, actor, role) == ALLOWED[(actor, role)][status]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(("actor", "role"), list(ALLOWED))
def test_check_agrees_with_allowed_actions_for_every_viewer(status, actor, role):
    for action in ACTIONS:
        if action in ALLOWED[(actor, role)][status]:
            assert check(action, status, dict(GOOD_VALUES), actor, role).action == action
        else:
            with pytest.raises(IllegalTransition) as info:
                check(action, status, dict(GOOD_VALUES), actor, role)
            assert info.value.allowed == ALLOWED[(actor, role)][status]


def test_illegal_is_reported_before_missing_fields():
    # cancel from closed without a reason: the status is the problem, not the reason
    with pytest.raises(IllegalTransition):
        check("cancel", "closed", {})
    with pytest.raises(IllegalTransition):
        check("resolve", "new", {"resolution": ""})


def test_illegal_message_says_none_when_nothing_is_allowed():
    with pytest.raises(IllegalTransition, match="allowed: none"):
        check("start", "closed", {})
    with pytest.raises(IllegalTransition, match="allowed: reopen, close"):
        check("start", "resolved", {})


# --- required fields ------------------------------------------------------------

REQUIRED_CASES = [(a, src, f) for a, (srcs, _t, req, _r, _a) in EXPECTED.items() for src in srcs for f in req]


@pytest.mark.parametrize(("action", "source", "field"), REQUIRED_CASES)
@pytest.mark.parametrize("blank", ["absent", None, "", "   ", "\t\n"])
def test_required_fields_raise_missing_fields_naming_the_field(action, source, field, blank):
    actor, role = ACTOR_FOR[action]
    values = {} if blank == "absent" else {field: blank}
    with pytest.raises(MissingFields) as info:
        check(action, source, values, actor, role)
    assert info.value.fields == {field: [f"required to {action}"]}
    assert field in str(info.value)


def test_each_action_requires_exactly_its_fields():
    for action, (sources, _t, required, _r, _a) in EXPECTED.items():
        actor, role = ACTOR_FOR[action]
        if required:
            with pytest.raises(MissingFields) as info:
                check(action, sources[0], {}, actor, role)
            assert set(info.value.fields) == set(required)
        else:
            assert check(action, sources[0], {}, actor, role).action == action


def test_a_non_blank_value_with_spaces_is_enough():
    assert check("resolve", "in_progress", {"resolution": "  done  "}).target == "resolved"


def test_other_fields_do_not_stand_in_for_a_required_one():
    with pytest.raises(MissingFields) as info:
        check("cancel", "new", {"resolution": "x", "department": "sales"}, role="supervisor")
    assert set(info.value.fields) == {"reason"}


# --- roles ------------------------------------------------------------------------

@pytest.mark.parametrize("status", OPEN)
def test_cancel_needs_a_supervisor(status):
    with pytest.raises(IllegalTransition) as info:
        check("cancel", status, {"reason": "spam"}, "staff", "agent")
    assert "cancel" not in info.value.allowed
    assert info.value.allowed == ALLOWED[("staff", "agent")][status]
    assert check("cancel", status, {"reason": "spam"}, "staff", "supervisor").target == "cancelled"
    assert check("cancel", status, {"reason": "spam"}, "staff", "admin").target == "cancelled"


def test_higher_roles_may_do_everything_lower_roles_may():
    for status in STATUSES:
        agent = set(allowed_actions(status, "staff", "agent"))
        supervisor = set(allowed_actions(status, "staff", "supervisor"))
        admin = set(allowed_actions(status, "staff", "admin"))
        assert agent <= supervisor <= admin


def test_staff_without_a_role_may_do_nothing():
    for status in STATUSES:
        assert allowed_actions(status, "staff", None) == []
        with pytest.raises(IllegalTransition):
            check("confirm" if status == "new" else "close", status, dict(GOOD_VALUES), "staff", None)


def test_staff_cannot_use_the_customer_reply_transition():
    for role in workflow.ROLES:
        with pytest.raises(IllegalTransition):
            check("customer_reply", "waiting_on_customer", {}, "staff", role)


# --- actors -----------------------------------------------------------------------

@pytest.mark.parametrize("status", STATUSES)
def test_customers_may_only_reopen_close_or_reply(status):
    for action in ACTIONS:
        if action in ("reopen", "close", "customer_reply") and status in EXPECTED[action][0]:
            continue
        with pytest.raises(IllegalTransition):
            check(action, status, dict(GOOD_VALUES), actor="customer", role=None)
    for action in set(allowed_actions(status, "customer", None)):
        assert action in ("reopen", "close", "customer_reply")


def test_customer_role_is_ignored():
    # A customer acting with a staff role still cannot confirm or cancel.
    with pytest.raises(IllegalTransition):
        check("confirm", "new", {"department": "sales"}, actor="customer", role="admin")
    with pytest.raises(IllegalTransition):
        check("cancel", "new", {"reason": "spam"}, actor="customer", role="admin")
    assert check("reopen", "resolved", {"reason": "broken"}, actor="customer", role=None).target == "in_progress"


def test_customer_reopen_still_needs_a_reason():
    with pytest.raises(MissingFields) as info:
        check("reopen", "resolved", {"reason": " "}, actor="customer", role=None)
    assert set(info.value.fields) == {"reason"}


def test_the_system_may_only_close():
    for status in STATUSES:
        for action in ACTIONS:
            if action == "close" and status == "resolved":
                assert check(action, status, {}, actor="system", role=None).target == "closed"
            else:
                with pytest.raises(IllegalTransition):
                    check(action, status, dict(GOOD_VALUES), actor="system", role=None)


def test_plugins_act_as_staff_with_their_role_and_unknown_actors_may_do_nothing():
    for status in STATUSES:
        # A plugin (through service.sdk) acts as staff: as an admin unless given a role.
        assert allowed_actions(status, "plugin", None) == allowed_actions(status, "staff", "admin")
        assert allowed_actions(status, "plugin", "agent") == allowed_actions(status, "staff", "agent")
        assert allowed_actions(status, "robot", "admin") == []
    assert "cancel" in allowed_actions("new", "plugin", None)
    assert "cancel" not in allowed_actions("new", "plugin", "agent")


# --- clocks -------------------------------------------------------------------------

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize("window", [0, 1, 14, 30])
def test_reopen_is_late_only_after_the_window(window):
    edge = T0 + timedelta(days=window)
    assert workflow.reopen_is_late(T0, T0, window) is False
    assert workflow.reopen_is_late(T0, edge - TICK, window) is False
    assert workflow.reopen_is_late(T0, edge, window) is False  # exactly at the edge: still in time
    assert workflow.reopen_is_late(T0, edge + TICK, window) is True
    assert workflow.reopen_is_late(T0, edge + timedelta(days=365), window) is True


@pytest.mark.parametrize("days", [0, 1, 7, 30])
def test_auto_close_is_due_at_the_boundary(days):
    edge = T0 + timedelta(days=days)
    assert workflow.auto_close_due("resolved", T0, edge - TICK, days) is False
    assert workflow.auto_close_due("resolved", T0, edge, days) is True  # exactly N days: due
    assert workflow.auto_close_due("resolved", T0, edge + TICK, days) is True


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "resolved"])
def test_auto_close_only_for_resolved_tickets(status):
    assert workflow.auto_close_due(status, T0, T0 + timedelta(days=100), 7) is False


def test_auto_close_needs_a_resolution_time():
    assert workflow.auto_close_due("resolved", None, T0 + timedelta(days=100), 7) is False
