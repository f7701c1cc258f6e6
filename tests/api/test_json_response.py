"""API answers are encoded by orjson (``KefuJSONProvider.response``) with the
same JSON text Flask's own compact encoder writes, and anything orjson would
write differently or refuses goes through Flask's encoder."""
from __future__ import annotations

import json
import uuid
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest


def flask_text(app, obj) -> bytes:
    """What Flask's DefaultJSONProvider answers for ``obj`` with kefu's settings."""
    return (json.dumps(obj, default=app.json.default, ensure_ascii=False, sort_keys=False,
                       separators=(",", ":")) + "\n").encode()


@dataclass
class Point:
    x: int
    label: str


Pair = namedtuple("Pair", "a b")

SAME_TEXT = [
    {"subject": "包裹破损，请尽快处理", "emoji": "📦", "quote": 'say "hi" \\ back', "ctl": "a\nb\tc\x01",
     "html": "</script><b>", "separator": "\u2028"},
    [1, -2, 0, True, False, None, "", [], {}],
    {"nested": {"deeper": [{"n": 1}, {"n": 2}]}, "order": "z", "a": 1},  # key order kept, not sorted
    {"when": datetime(2026, 12, 5, 4, 30, 1, tzinfo=timezone.utc), "day": date(2026, 12, 5)},  # HTTP dates
    {"amount": Decimal("199.00"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"point": Point(3, "三")},
    {"pair": Pair(1, "b")},  # a tuple subclass: Flask's list
    {"big": 2**70, "negative_big": -(2**65)},  # beyond 64 bits
    {1: "int key", None: "none key", 2.5: "float key", False: "bool key"},  # non-string keys
    "just a string",
    ["ticket", 0.5, 3.25, 100.0],
]


@pytest.mark.parametrize("obj", SAME_TEXT, ids=range(len(SAME_TEXT)))
def test_the_answer_is_flasks_compact_json(app, obj):
    with app.app_context():
        response = app.json.response(obj)
        assert response.get_data() == flask_text(app, obj)
        assert response.mimetype == "application/json"


def test_floats_read_back_the_same(app):
    # The shortest representation, as Python's; orjson may spell an exponent
    # differently (1e-07 / 1e-7), so compare values.
    values = [0.1, 1e-7, 1.5e300, -2.5e-12, 123456789.125, 1e16]
    with app.app_context():
        assert json.loads(app.json.response(values).get_data()) == values


def test_an_unencodable_value_is_still_refused(app):
    with app.app_context(), pytest.raises(TypeError):
        app.json.response({"set": {1, 2}})
    # Text that is not Unicode (a lone surrogate) fails as in Flask's
    # encoder; kefu refuses such input before it is stored (service.api.input).
    with app.app_context(), pytest.raises(UnicodeEncodeError):
        app.json.response({"surrogate": "\ud800"})


def test_debug_answers_stay_pretty_printed(app):
    app.debug = True
    with app.app_context():
        body = app.json.response({"a": [1, 2]}).get_data(as_text=True)
    assert body == json.dumps({"a": [1, 2]}, indent=2) + "\n"


def test_a_real_answer_is_unchanged(client, agent, file_ticket):
    number = file_ticket()["number"]
    response = client.get(f"/api/v1/tickets/{number}", headers=agent)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data() == flask_text(client.application, response.json)
