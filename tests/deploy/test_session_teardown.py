"""A request whose database connection dies after its answer was made (a
server shutting down as the session closes) still gets that answer."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from service import create_app
from service.extensions import db

pytestmark = pytest.mark.postgres_only  # a server that can cut a connection


def test_a_connection_cut_while_the_session_closes_is_not_a_500(app_config):
    app = create_app(app_config)  # no app context of the test's: each request ends its own session

    @app.get("/_test/cut-after-answer")
    def cut_after_answer():
        # The session holds a connection in an open transaction; another
        # connection ends it, as a server shutting down (pg_ctl -m fast) does.
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        return {"answered": True}

    try:
        response = app.test_client().get("/_test/cut-after-answer")
        assert response.status_code == 200 and response.json == {"answered": True}
        # The next request gets a working connection.
        with app.app_context():
            assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        with app.app_context():
            db.engine.dispose()
