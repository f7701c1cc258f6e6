"""Extension objects, created unbound; ``create_app`` binds them with init_app.

No configuration or connection happens here, so importing kefu is free of
side effects.
"""
import logging

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that Alembic batch migrations on SQLite can drop and
# recreate them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay loaded after commit: a use case's answer is dumped from what it
# just wrote, without reloading every row (a session lives for one request).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(render_as_batch=True, compare_type=True)
# Limits are declared on the customer-facing routes only (the public API and
# pages, sign-in); storage comes from RATELIMIT_STORAGE_URI (REDIS_URL when
# that is set, else memory).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Its words (the store went away, came back) go where kefu's own do: Flask-
# Limiter's logger has a NullHandler, which hides its warnings from a server
# that configured no logging.
limiter.logger = logging.getLogger("kefu.limits")

# The core's staff API blueprints, which carry no limit, and the health
# probes. The limiter would still resolve limits for every one of their
# requests (about 5 % of a ticket's create or read); a request filter skips
# that work for them - and a probe never touches the limiter's store.
UNLIMITED_BLUEPRINTS = frozenset({"tickets", "customers", "reference", "jobs", "mail", "health"})


@limiter.request_filter
def _unlimited_blueprint() -> bool:
    return request.blueprint in UNLIMITED_BLUEPRINTS
