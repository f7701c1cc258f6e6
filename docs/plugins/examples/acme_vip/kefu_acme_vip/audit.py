"""The audit trail: a line per workflow step, in the plugin's own table."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from service import sdk

from .settings import break_if_asked


class AuditLine(sdk.Model):
    __tablename__ = "acme_vip_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120))
    at = mapped_column(sdk.UTCDateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer)


def write_line(ticket, action: str, from_status: str, to_status: str, actor: sdk.Actor) -> None:
    """Add the audit line of one step, in a unit of work of its own."""
    break_if_asked("ticket_transitioned")
    with sdk.UnitOfWork() as uow:
        sdk.db.session.add(AuditLine(ticket_id=ticket.id, action=action, from_status=from_status,
                                     to_status=to_status, actor=f"{actor.type}:{actor.name or actor.id}"[:120],
                                     at=sdk.utcnow(), version=ticket.version))
        uow.commit()


def lines(ticket_id: int) -> list[AuditLine]:
    """The ticket's audit lines, oldest first."""
    return list(sdk.db.session.scalars(select(AuditLine).where(AuditLine.ticket_id == ticket_id)
                                       .order_by(AuditLine.id)))


def panel(ticket) -> sdk.TicketPanel:
    """The audit trail as typed rows."""
    break_if_asked("ticket_panels")
    found = lines(ticket.id)
    rows = [{"label": sdk.gettext("Steps audited"), "value": len(found)}]
    # Statuses by their names in the page's language, never their codes.
    rows += [{"label": f"{sdk.code_label('status', line.from_status)} → {sdk.code_label('status', line.to_status)}",
              "value": line.at.isoformat(), "kind": "time"} for line in found]
    return {"key": "acme_vip_audit", "title": sdk.gettext("Audit trail"), "rows": rows}
