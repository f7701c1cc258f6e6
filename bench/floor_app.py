"""The floor: a bare Flask + Flask-SQLAlchemy app, one statement per request.

``bench/api_bench.py`` runs this app next to kefu, under the same gunicorn
settings and on the same kind of database, so that kefu's numbers can be read
against what Flask, SQLAlchemy, the driver and the database cost on their
own. Every request runs exactly one SQL statement and no auth, plugins,
validation framework or history:

* ``POST /tickets``          one INSERT ... RETURNING (JSON body: subject,
                             description, customer_id, priority, kind)
* ``GET /tickets/<number>``  one SELECT by the unique ``number``
* ``GET /tickets?limit=25&cursor=<id>``
                             one SELECT ... WHERE id < cursor ORDER BY id DESC
                             LIMIT limit + 1 (keyset pagination, as kefu)
* ``GET /customers?limit=25`` the same on a table shaped like kefu's customers
* ``GET /customers/<id>``    one SELECT by primary key (``bench/console_bench.py``'s profile)
* ``GET /tickets/by-status`` one SELECT status, count(*) ... GROUP BY status
                             (``bench/console_bench.py``'s dashboard)

The table resembles kefu's ``tickets`` (same kinds of columns, a unique
``number``, an integer primary key); SQLite gets kefu's connection pragmas
(WAL, ``synchronous=NORMAL``, foreign keys) and busy timeout.

Configuration: ``FLOOR_DATABASE_URL`` (an SQLAlchemy URL). The schema is made
by ``init_db(url)`` (the benchmark calls it before starting the server), not
at start, so that two workers do not race to create it. Run it with, e.g.::

    FLOOR_DATABASE_URL=sqlite:////tmp/floor.db \\
        gunicorn -w 2 --chdir bench 'floor_app:create_app()'
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event

metadata = sa.MetaData()

# One table shaped like kefu's tickets (the columns a list or a get shows).
floor_tickets = sa.Table(
    "floor_tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.String(20), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("category_id", sa.Integer, nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

# And one shaped like kefu's customers, for the customers list.
floor_customers = sa.Table(
    "floor_customers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(40)),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("external_ref", sa.String(80)),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

db = SQLAlchemy(metadata=metadata)


def _sqlite_pragmas(dbapi_connection, _record):
    # The same pragmas kefu sets (service/app.py), so both pay the same.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine_options(url: str) -> dict:
    """kefu's engine options for ``url`` (service/settings.py)."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with kefu's options and SQLite pragmas."""
    engine = sa.create_engine(url, **engine_options(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def init_db(url: str) -> None:
    """Create the floor table in the database at ``url``."""
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def _row(row) -> dict:
    out = dict(row._mapping)
    for key in ("created_at", "updated_at"):
        if key in out:
            out[key] = out[key].replace(tzinfo=timezone.utc).isoformat()
    return out


def create_app(url: str | None = None) -> Flask:
    """The floor app on ``url`` (default: ``FLOOR_DATABASE_URL``)."""
    url = url or os.environ["FLOOR_DATABASE_URL"]
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(url)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)

    @app.post("/tickets")
    def create():
        data = request.get_json()
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        row = db.session.execute(
            floor_tickets.insert().values(
                number=f"FL-{uuid.uuid4().hex[:16]}", kind=data.get("kind") or "complaint",
                channel="api", category_id=1, subject=data["subject"],
                description=data["description"], priority=data.get("priority") or "normal",
                status="new", customer_id=data["customer_id"], created_at=now, updated_at=now,
                version=1,
            ).returning(*floor_tickets.c)
        ).one()
        db.session.commit()
        return jsonify(_row(row)), 201

    @app.get("/tickets/<number>")
    def get(number):
        row = db.session.execute(
            sa.select(floor_tickets).where(floor_tickets.c.number == number)
        ).one_or_none()
        if row is None:
            abort(404)
        return jsonify(_row(row))

    @app.get("/tickets")
    def list_():
        limit = min(max(request.args.get("limit", 25, type=int), 1), 100)
        stmt = sa.select(floor_tickets).order_by(floor_tickets.c.id.desc()).limit(limit + 1)
        cursor = request.args.get("cursor", type=int)
        if cursor is not None:
            stmt = stmt.where(floor_tickets.c.id < cursor)
        rows = db.session.execute(stmt).all()
        next_cursor = rows[limit - 1].id if len(rows) > limit else None
        return jsonify({"items": [_row(r) for r in rows[:limit]], "next_cursor": next_cursor})

    @app.get("/customers")
    def customers():
        limit = min(max(request.args.get("limit", 25, type=int), 1), 100)
        stmt = sa.select(floor_customers).order_by(floor_customers.c.id.desc()).limit(limit + 1)
        rows = db.session.execute(stmt).all()
        next_cursor = rows[limit - 1].id if len(rows) > limit else None
        return jsonify({"items": [_row(r) for r in rows[:limit]], "next_cursor": next_cursor})

    @app.get("/customers/<int:customer_id>")
    def customer(customer_id):
        row = db.session.execute(
            sa.select(floor_customers).where(floor_customers.c.id == customer_id)
        ).one_or_none()
        if row is None:
            abort(404)
        return jsonify(_row(row))

    @app.get("/tickets/by-status")
    def by_status():
        rows = db.session.execute(
            sa.select(floor_tickets.c.status, sa.func.count()).group_by(floor_tickets.c.status)
        ).all()
        return jsonify({status: count for status, count in rows})

    return app
