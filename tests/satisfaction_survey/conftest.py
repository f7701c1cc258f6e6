"""Survey tests deliver at once (``SURVEY_DELAY`` 0) unless a test says otherwise."""
from __future__ import annotations

import pytest


@pytest.fixture
def overrides():
    return {"SURVEY_DELAY": 0}
