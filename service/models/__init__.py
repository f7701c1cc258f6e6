"""The ORM models, one aggregate per module; imported here so that Alembic and
the relationships see every table."""
from service.models.category import Category
from service.models.customer import CUSTOMER_KINDS, Customer, CustomerNote
from service.models.department import Department
from service.models.events import TicketEvent
from service.models.job import JobEffect, OutboxJob, PeriodicLock, PeriodicRun, QuarantinedMail
from service.models.message import Attachment, Message
from service.models.plugin import PluginFailure
from service.models.presence import TicketPresence
from service.models.staff import ROLES, ApiToken, Staff
from service.models.ticket import CHANNELS, KINDS, PRIORITIES, Ticket

__all__ = [
    "ApiToken", "Attachment", "CHANNELS", "CUSTOMER_KINDS", "Category", "Customer", "CustomerNote",
    "Department", "JobEffect", "KINDS", "Message", "OutboxJob", "PeriodicLock", "PeriodicRun", "PluginFailure", "QuarantinedMail", "PRIORITIES", "ROLES", "Staff", "Ticket", "TicketEvent",
    "TicketPresence",
]
