"""Reference data and administration: departments, categories, staff, plugins."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from service.api.schemas import (
    CODE,
    CategoryIn,
    CodeOut,
    DepartmentOut,
    PluginOut,
    StaffOut,
)
from service.api.text import filled
from service.domain.workflow import STAFF_ROLES
from service.extensions import db
from service.models import Category, Department, Staff
from service.reads.read_only import read_only
from service.usecases.auth import authenticate, current_staff, require_role
from service.usecases.categories import create_category
from service.usecases.staff import create_staff

blp = Blueprint("reference", __name__, url_prefix="/api/v1", description="Reference data and administration.")
blp.before_request(authenticate)


@blp.route("/departments", methods=["GET"])
@require_role("agent", "finance")
@read_only
@blp.response(200, DepartmentOut(many=True))
def departments():
    """The responsible departments a ticket can be confirmed to, by code
    (active ones: an admin's deactivated department is offered no more)."""
    return db.session.scalars(select(Department).where(Department.active.is_(True))
                              .order_by(Department.code)).all()


@blp.route("/categories")
class Categories(MethodView):
    @require_role("agent", "finance")
    @read_only
    @blp.response(200, CodeOut(many=True))
    def get(self):
        """Active categories, by code."""
        return db.session.scalars(select(Category).where(Category.active.is_(True))
                                  .order_by(Category.position, Category.code)).all()

    @require_role("admin")
    @blp.arguments(CategoryIn())
    @blp.response(201, CodeOut)
    def post(self, data):
        """Add a category (admin); 409 when the code exists."""
        return create_category(**data)


class StaffIn(ma.Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))  # the column's size
    name = fields.String(required=True, validate=filled(120))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    department = fields.String(validate=CODE, load_default=None)
    password = fields.String(validate=validate.Length(min=10, max=200), load_default=None, load_only=True)


class StaffCreated(StaffOut):
    token = fields.String()


@blp.route("/staff")
class StaffCollection(MethodView):
    @require_role("supervisor")
    @blp.response(200, StaffOut(many=True))
    def get(self):
        """Staff accounts (supervisors and admins)."""
        return db.session.scalars(select(Staff).order_by(Staff.id)).all()

    @require_role("admin")
    @blp.arguments(StaffIn())
    @blp.response(201, StaffCreated)
    def post(self, data):
        """Create a staff account (admin); the answer carries its API token, shown once."""
        staff, token = create_staff(**data)
        staff.token = token
        return staff


@blp.route("/me", methods=["GET"])
@require_role("agent", "finance")
@read_only
@blp.response(200, StaffOut)
def me():
    """The staff member the token belongs to."""
    return current_staff()


@blp.route("/plugins", methods=["GET"])
@require_role("admin")
@blp.response(200, PluginOut(many=True))
def plugin_list():
    """Every plugin: where it came from, whether it is enabled, which hooks it implements."""
    return current_app.extensions["kefu_plugins"].infos
