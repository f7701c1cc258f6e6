"""Customer endpoints (staff only: customer data is private)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from service.api.errors import ErrorSchema
from service.api.schemas import (
    CustomerIn,
    CustomerMergeIn,
    CustomerMergeOut,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    PageArgs,
    TicketListArgs,
    TicketPage,
)
from service.api.tickets import _present
from service.domain.actors import Actor
from service.hooks import plugins
from service.reads import listing
from service.reads.lookup import SHOWING, customer_by_id
from service.reads.read_only import read_only
from service.usecases import customers, merging
from service.usecases.auth import authenticate, current_staff, require_role

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers", description="Customers (staff).")
blp.before_request(authenticate)


def _with_tier(customer):
    """The customer with the deciders' answers shown on it: ``tier`` and
    ``satisfaction_class``."""
    return _with_tiers([customer])[0]


def _with_tiers(customers: list) -> list:
    """``_with_tier`` for a page of customers (each decider set up once)."""
    manager, calls = plugins(), [{"customer": c} for c in customers]
    tiers = manager.decide_each("customer_tier", calls)
    classes = manager.decide_each("satisfaction_class", calls)
    for customer, tier, satisfaction in zip(customers, tiers, classes):
        customer.tier, customer.satisfaction_class = tier[0], satisfaction[0]
    return customers


@blp.route("")
class CustomerCollection(MethodView):
    @require_role("agent", "finance")
    @read_only
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, CustomerPage)
    def get(self, args):
        """List customers, newest first; ``q`` searches name, e-mail, phone and reference."""
        rows, next_cursor = listing.list_customers(args.get("q"), args["limit"], args.get("cursor"))
        return {"items": _with_tiers(rows), "next_cursor": next_cursor}

    @require_role("agent")
    @blp.arguments(CustomerIn())
    @blp.response(201, CustomerOut)
    def post(self, data):
        """Create a customer; 409 when ``external_ref`` is taken."""
        return _with_tier(customers.create_customer(data))


@blp.route("/<int(max=2147483647):customer_id>")
class CustomerItem(MethodView):
    @require_role("agent", "finance")
    @read_only
    @blp.response(200, CustomerOut)
    def get(self, customer_id):
        """One customer, with their tier."""
        return _with_tier(customer_by_id(customer_id, preload=SHOWING))

    @require_role("agent")
    @blp.arguments(CustomerPatch(partial=True))
    @blp.response(200, CustomerOut)
    def patch(self, data, customer_id):
        """Change some of a customer's fields."""
        return _with_tier(customers.update_customer(customer_id, data))

    @require_role("supervisor")
    @blp.response(204)
    def delete(self, customer_id):
        """Delete a customer who has no tickets (409 otherwise)."""
        customers.delete_customer(customer_id)


@blp.route("/<int(max=2147483647):customer_id>/tickets", methods=["GET"])
@require_role("agent", "finance")
@read_only
@blp.arguments(TicketListArgs(), location="query")
@blp.response(200, TicketPage)
def customer_tickets(args, customer_id):
    """The customer's tickets, newest first, with the ticket list's filters."""
    customer_by_id(customer_id)
    limit, cursor = args.pop("limit"), args.pop("cursor", None)
    args["customer"] = customer_id
    items, next_cursor = listing.list_tickets(args, limit, cursor)
    staff = current_staff()  # the same representation as GET /tickets, allowed actions included
    return {"items": [_present(t, staff) for t in items], "next_cursor": next_cursor}


@blp.route("/<int(max=2147483647):customer_id>/merge", methods=["POST"])
@require_role("supervisor")
@blp.arguments(CustomerMergeIn())
@blp.response(200, CustomerMergeOut)
@blp.alt_response(404, schema=ErrorSchema, description="no such customer (either record)")
@blp.alt_response(409, schema=ErrorSchema, description="merging a record into itself (merge_into_itself), a record already merged "
                                   "(customer_merged), or a plugin could not move its rows (plugin_failed): "
                                   "nothing was merged")
def merge(data, customer_id):
    """Merge customer ``from_customer_id`` (a duplicate) into this one: its
    tickets, notes and the plugins' rows (surveys, transactions, credit
    ratings...) move here in one transaction, each moved ticket's history
    records it, and the duplicate stays as a pointer (``merged_into_id``).
    Answers the kept customer and what moved."""
    kept, moved = merging.merge_customers(customer_id, data["from_customer_id"], Actor.staff(current_staff()))
    return {"customer": _with_tier(customer_by_id(kept.id, preload=SHOWING)), "moved": moved}
