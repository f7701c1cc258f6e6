"""What plugins did wrong, counted per plugin and hook, for the admin plugins page."""
from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.models.base import UTCDateTime


class PluginFailure(db.Model):
    """How often a plugin's implementation of a hook raised or answered
    malformed, with the last error. Ticket-bound failures are also on the
    ticket's history; this is the one place that sees them all (panels,
    charts and columns included)."""

    __tablename__ = "plugin_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(80))
    hook: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_at = mapped_column(UTCDateTime, nullable=False)
    last_at = mapped_column(UTCDateTime, nullable=False)
    last_error: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("plugin", "hook", name="uq_plugin_failures_plugin_hook"),)
