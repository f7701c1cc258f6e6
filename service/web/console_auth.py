"""Console sign-in, sign-out and the staff member's own settings (language,
time zone, mail for notices)."""
from __future__ import annotations

import functools
import zoneinfo

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from service.extensions import limiter
from service.limits import failed_signin, signin_account
from service.models import MAIL_PREFERENCES
from service.translate import gettext as _
from service.usecases.staff import record_sign_in, update_own_settings
from service.web.pages import register_error_pages, safe_next
from service.web.session import (
    authenticate,
    console_staff,
    load_console_staff,
    require_staff,
    sign_in,
    sign_out,
)

bp = Blueprint("console_auth", __name__, url_prefix="/console")
bp.before_request(load_console_staff)
register_error_pages(bp)


@bp.route("/login", methods=["GET"])
def login():
    """The sign-in form (already signed in: on to the queues)."""
    if console_staff() is not None:
        return redirect(safe_next(request.args.get("next"), url_for("console_queues.queue")))
    return render_template("web/console/login.html", next=request.args.get("next", ""), error=None)


@bp.route("/login", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], methods=["POST"],
               key_func=signin_account, deduct_when=failed_signin)
def login_post():
    """Check e-mail and password; throttled per client address
    (``LOGIN_RATE_LIMIT``) and by failures per account (``LOGIN_ACCOUNT_RATE_LIMIT``)."""
    staff = authenticate(request.form.get("email", ""), request.form.get("password", ""))
    if staff is None:
        return render_template("web/console/login.html", next=request.form.get("next", ""),
                               email=request.form.get("email", ""),
                               error=_("Wrong e-mail or password.")), 401
    sign_in(staff)
    record_sign_in(staff.id)
    return redirect(safe_next(request.form.get("next"), url_for("console_queues.queue")))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out everywhere: this session and every other of the same staff
    member (other devices, copies of the cookie) end. A POST with the CSRF
    token, so no other site can sign anyone out."""
    sign_out()
    return redirect(url_for("console_auth.login"))


_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/",
            "Pacific/")


def _timezones() -> list[tuple[str, str]]:
    """The time zones staff choose from, as (IANA name, label in the page's
    language, e.g. "中国（上海）时间 (UTC+08:00)"), by offset: the regions' cities
    and UTC, not the legacy aliases (``US/Eastern``, ``PRC``) that name the same zones."""
    from datetime import date

    from flask_babel import get_locale

    # Naming 400 zones takes Babel some 30 ms: once a day (offsets follow daylight saving) per language.
    return list(_named_timezones(str(get_locale()), date.today(), _("Coordinated Universal Time")))


@functools.lru_cache(maxsize=8)
def _named_timezones(locale: str, day, utc_name: str) -> tuple[tuple[str, str], ...]:
    from datetime import datetime, time, timezone

    from babel.dates import get_timezone, get_timezone_location

    now = datetime.combine(day, time(12), tzinfo=timezone.utc)
    zones = []
    for name in zoneinfo.available_timezones():
        if name != "UTC" and not name.startswith(_REGIONS):
            continue
        offset = now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
        minutes = int(offset.total_seconds() // 60)
        text = f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        place = utc_name if name == "UTC" else get_timezone_location(get_timezone(name), locale=locale)
        zones.append((minutes, f"{place} ({text})", name))
    return tuple((name, text) for _minutes, text, name in sorted(zones))


@bp.route("/settings", methods=["GET", "POST"])
@require_staff("agent", "finance")
def settings():
    """The signed-in staff member's language, time zone and mail for notices."""
    staff = console_staff()
    errors = {}
    if request.method == "POST":
        language = request.form.get("language", "")
        timezone = request.form.get("timezone", "")
        # Absent from the form (an older page): the preference stays as it is.
        notify_mail = request.form.get("notify_mail")
        if language not in current_app.config["LANGUAGES"]:
            errors["language"] = [_("Not one of the choices.")]
        if timezone not in zoneinfo.available_timezones():
            errors["timezone"] = [_("Not one of the choices.")]
        if notify_mail is not None and notify_mail not in MAIL_PREFERENCES:
            errors["notify_mail"] = [_("Not one of the choices.")]
        if not errors:
            update_own_settings(staff, language, timezone, notify_mail)
            flash(_("Settings saved."), "ok")
            return redirect(url_for("console_auth.settings"))
    zones = _timezones()
    if staff.timezone not in {name for name, _text in zones}:  # an alias chosen before: kept, shown as it is
        zones.insert(0, (staff.timezone, staff.timezone))
    return render_template("web/console/settings.html", staff=staff, timezones=zones,
                           errors=errors), (422 if errors else 200)
