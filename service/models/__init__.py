"""The ORM models, one aggregate per module; imported here so that Alembic and
the relationships see every table."""
from .category import Category
from .customer import CUSTOMER_KINDS, Customer
from .department import Department
from .events import TicketEvent
from .job import JobEffect, OutboxJob, QuarantinedMail
from .message import Attachment, Message
from .staff import ROLES, ApiToken, Staff
from .ticket import CHANNELS, KINDS, PRIORITIES, Ticket

__all__ = [
    "ApiToken", "Attachment", "CHANNELS", "CUSTOMER_KINDS", "Category", "Customer",
    "Department", "JobEffect", "KINDS", "Message", "OutboxJob", "QuarantinedMail", "PRIORITIES", "ROLES", "Staff", "Ticket", "TicketEvent",
]
