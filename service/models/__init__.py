"""The ORM models, one aggregate per module; imported here so that Alembic and
the relationships see every table."""
from service.models.category import Category
from service.models.customer import CUSTOMER_KINDS, Customer, CustomerNote
from service.models.department import Department
from service.models.events import TicketEvent
from service.models.job import (
    JobEffect,
    OutboxJob,
    PeriodicLock,
    PeriodicRun,
    QuarantinedMail,
)
from service.models.held_upload import HeldUpload
from service.models.macro import Macro
from service.models.message import Attachment, Message
from service.models.notification import (
    MAIL_PREFERENCES,
    NOTICE_KINDS,
    Notification,
    TicketView,
)
from service.models.plugin import PluginFailure
from service.models.presence import TicketPresence
from service.models.saved_view import SavedView
from service.models.staff import ROLES, ApiToken, Staff
from service.models.ticket import CHANNELS, KINDS, PRIORITIES, Ticket

__all__ = [
    "ApiToken", "Attachment", "CHANNELS", "CUSTOMER_KINDS", "Category", "Customer", "CustomerNote",
    "Department", "HeldUpload", "JobEffect", "KINDS", "MAIL_PREFERENCES", "Macro", "Message", "NOTICE_KINDS", "Notification", "OutboxJob", "PeriodicLock", "PeriodicRun", "PluginFailure", "QuarantinedMail", "PRIORITIES", "ROLES", "SavedView", "Staff", "Ticket", "TicketEvent",
    "TicketPresence", "TicketView",
]
