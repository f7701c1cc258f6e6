"""The test database settings and helpers, importable by tests (a
``conftest`` module is not: several directories have one).

The database is chosen by ``KEFU_TEST_DATABASE_URL``: empty means SQLite,
a ``postgresql+psycopg://`` URL means that database.
"""
from __future__ import annotations

from pathlib import Path

from service.testing.database import TEST_SETTINGS, database_url_from_environment

ROOT = Path(__file__).resolve().parent.parent
PG_URL = database_url_from_environment()
IS_PG = bool(PG_URL)
BASE_CONFIG = TEST_SETTINGS
