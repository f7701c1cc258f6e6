"""tier_sla's admin pages in the console (admins only), listed on the admin
index through the ``admin_pages`` hook:

* ``/console/admin/sla/policy``: the SLA policy as a form (``policy_form``):
  targets per tier and priority, the escalation ladder, calendars. Saving
  stores a new version through ``policy.publish``, as ``PUT
  /api/v1/sla/policy`` does; a problem re-renders the form as typed, each
  message at its field, and nothing is stored.
* ``/console/admin/sla/tiers``: customers whose tier an override pins; set
  one (with its reason, optionally until a day) or remove it, through
  ``tiers.set_override`` / ``clear_override`` as the tier API does.

Views are thin: read the form, call the use case, re-render or redirect.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from service import sdk
from service.sdk import gettext as _

from . import policy as policies
from . import policy_form
from .models import CustomerTier
from .settings import tier_settings
from .tiers import clear_override, set_override

bp = Blueprint("tier_sla_admin", __name__, url_prefix="/console/admin/sla", template_folder="templates")
sdk.console_page(bp)


def pages() -> list[dict]:
    """The pages for the ``admin_pages`` hook."""
    return [{"key": "tier_sla_policy", "title": _("SLA policy"), "url": url_for("tier_sla_admin.policy"),
             "summary": _("Response and resolution targets per tier and priority, escalation, calendars.")},
            {"key": "tier_sla_overrides", "title": _("Tier overrides"), "url": url_for("tier_sla_admin.overrides"),
             "summary": _("Customers whose tier is set by hand, and why.")}]


# --------------------------------------------------------------------------- SLA policy


@bp.route("/policy", methods=["GET", "POST"])
@sdk.require_console_role("admin")
def policy():
    """The policy in force as a form; POST stores the form as a new version."""
    current = policies.current_committed()
    data = current.data
    values, errors, status = policy_form.form_values(data), {}, 200
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in request.form if key not in ("csrf_token", "version")}
        document, note, errors = policy_form.read_form(request.form, data)
        if request.form.get("version") != str(current.id):
            # Another version was saved since this form was opened (here or
            # through the API): saving would silently undo it. The form keeps
            # what was typed, now on top of that version; saving again stores it.
            errors = policy_form.FormErrors()
            errors.add("_", _("Someone saved another version of the policy (version %(version)d) while you were "
                              "editing. Check your changes against it and save again.", version=current.id))
            return render_template("tier_sla/admin/policy.html", policy=current, values=values, errors=errors,
                                   layout=policy_form.layout(data)), 409
        if not errors:
            try:
                saved = policies.publish(document, sdk.console_staff().id, note)
            except sdk.ValidationFailed as exc:
                errors = policy_form.FormErrors()
                for path, reasons in (exc.fields or {"policy": [exc.message]}).items():
                    reason = "; ".join(map(str, reasons))
                    errors.add(policy_form.field_of(path, data, reason), _("Not accepted: %(reason)s", reason=reason))
            else:
                flash(_("SLA policy saved as version %(version)d; new tickets start under it.",
                        version=saved.id), "ok")
                return redirect(url_for("tier_sla_admin.policy"))
        status = 422
    return render_template("tier_sla/admin/policy.html", policy=current, values=values, errors=errors,
                           layout=policy_form.layout(data)), status


# --------------------------------------------------------------------------- tier overrides


def _customer(text: str):
    """The customer an admin named by number (id) or e-mail address, else None."""
    text = text.strip()
    if text.isdigit() and len(text) < 10:
        return sdk.db.session.get(sdk.Customer, int(text))
    if "@" in text:
        return sdk.db.session.scalars(select(sdk.Customer).where(func.lower(sdk.Customer.email) == text.lower())
                                      .order_by(sdk.Customer.id).limit(1)).first()
    return None


def _until(text: str, zone: str):
    """The end of day ``text`` (YYYY-MM-DD) in the admin's time zone, or None for none."""
    if not text:
        return None
    day = date.fromisoformat(text)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone or "Asia/Shanghai"))


def _override_rows():
    rows = sdk.db.session.execute(
        select(CustomerTier, sdk.Customer).join(sdk.Customer, sdk.Customer.id == CustomerTier.customer_id)
        .where(CustomerTier.override_tier.is_not(None)).order_by(sdk.Customer.name, sdk.Customer.id)).all()
    staff_ids = {tier.override_by for tier, _customer in rows if tier.override_by}
    names = dict(sdk.db.session.execute(select(sdk.Staff.id, sdk.Staff.name).where(sdk.Staff.id.in_(staff_ids))).all()
                 ) if staff_ids else {}
    now = sdk.utcnow()
    return [{"customer": customer, "tier": tier.override_tier, "computed": tier.computed_tier,
             "reason": tier.override_reason, "until": tier.override_until, "by": names.get(tier.override_by),
             "active": tier.override_until is None or tier.override_until > now} for tier, customer in rows]


@bp.route("/tiers", methods=["GET", "POST"])
@sdk.require_console_role("admin")
def overrides():
    """Customers with a tier override; POST sets one for a customer."""
    values, errors, status = {}, {}, 200
    tiers = tier_settings().tiers
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("customer", "tier", "reason", "until")}
        staff = sdk.console_staff()
        customer = _customer(values["customer"])
        if customer is None:
            errors["customer"] = [_("No customer with this number or e-mail address.")]
        until = None
        try:
            until = _until(values["until"], staff.timezone)
        except ValueError:
            errors["until"] = [_("Not a date; choose a day.")]
        if not errors:
            try:
                set_override(customer.id, values["tier"], values["reason"], until, staff)
            except sdk.ValidationFailed as exc:
                messages = {"tier": _("Not one of the choices."), "reason": _("Give the reason for the override."),
                            "until": _("Choose a day in the future, within ten years.")}
                errors = {f: [messages.get(f, _("Not accepted."))] for f in exc.fields}
            else:
                flash(_("%(customer)s is now in tier %(tier)s.", customer=customer.name,
                        tier=policy_form.tier_label(values["tier"])), "ok")
                return redirect(url_for("tier_sla_admin.overrides"))
        status = 422
    return render_template("tier_sla/admin/overrides.html", rows=_override_rows(), values=values, errors=errors,
                           tiers=[{"code": t, "label": policy_form.tier_label(t)} for t in tiers],
                           tier_label=policy_form.tier_label), status


@bp.route("/tiers/<int(max=2147483647):customer_id>/clear", methods=["POST"])
@sdk.require_console_role("admin")
def clear(customer_id):
    """Remove a customer's override: the computed tier applies again."""
    clear_override(customer_id, sdk.console_staff())
    flash(_("Override removed for %(customer)s.", customer=sdk.get_customer(customer_id).name), "ok")
    return redirect(url_for("tier_sla_admin.overrides"))
